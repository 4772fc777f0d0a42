"""Visits: created from the protocol's schedule when their anchor date is known."""


def visits_on_record(*, record, actor) -> None:
    """TODO(issue 4): create or reschedule visits anchored at this record's form."""


def visits_on_participant_status(*, participant, actor) -> None:
    """TODO(issue 4): pending visits become not applicable after withdrawal or death."""
