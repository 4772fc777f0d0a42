"""Server-rendered CRF pages: the participant's forms, form entry with its life cycle, and data queries."""
