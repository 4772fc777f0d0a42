"""The form engine: definitions as data (crf/forms/*.yaml), value validation and edit checks. No database."""
