"""A reader's reading code for a case (followup/reading_codes.py): what their URLs and pages name it by."""

from followup.models import CaseAssignment


def reading_code(case, reader) -> str:
    return CaseAssignment.objects.get(case=case, reader=reader, active=True).reading_code
