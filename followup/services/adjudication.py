"""Re-fracture adjudication cases: opened by a follow-up MRI reporting a new non-operated fracture."""


def adjudication_sync(*, record, form) -> None:
    """TODO(issue 4): open a case per new non-operated fracture; cancel cases no longer reported."""
