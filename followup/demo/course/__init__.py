"""One participant's course of follow-up: the story (story.py: random stream, new fracture), its visits,
questionnaire answers and follow-up MRIs, assembled by Course, which followup_plan runs."""

from .course import Course, followup_plan

__all__ = ["Course", "followup_plan"]
