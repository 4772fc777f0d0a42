"""One participant's casebook: the story (story.py), each form's data (baseline, imaging, hospital), the life
cycle of its forms (lifecycle.py), assembled by Casebook, which crf_plan runs for every participant."""

from .casebook import Casebook, crf_plan

__all__ = ["Casebook", "crf_plan"]
