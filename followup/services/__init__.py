"""Every write to follow-up data goes through a named service that owns its transaction."""

from .questionnaires import instrument_text_load, questionnaire_get_or_start, questionnaire_save  # noqa: F401
from .visits import visit_complete, visit_miss, visit_reopen, visit_unscheduled_create  # noqa: F401
