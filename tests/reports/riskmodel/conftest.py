"""The workbench's fixtures (workbench.py) for every test here: the people of the study in every role."""

from .workbench import investigator, people, seeded, small_specs  # noqa: F401
