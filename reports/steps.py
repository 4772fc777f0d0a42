"""The steps of a job, named in the reader's language: each kind registers the names of its step codes (the
interim report its sections); a code nobody named is shown as it is."""

from collections.abc import Mapping

from django.utils.functional import Promise

STEP_LABELS: dict[str, Mapping[str, str | Promise]] = {}


def job_steps_register(kind: str, labels: Mapping[str, str | Promise]) -> None:
    """Name the step codes of `kind` (lazily translated labels)."""
    STEP_LABELS.setdefault(kind, {}).update(labels)


def step_text(kind: str, step: str) -> str:
    """The step in the active language; the code itself if it has no name, "" for none."""
    if not step:
        return ""
    return str(STEP_LABELS.get(kind, {}).get(step, step))


def interim_steps() -> dict:
    from django.utils.translation import gettext_lazy as _

    # The codes the interim report's runner passes to progress(): the data cut, then section by section.
    return {
        "capture": _("Capturing the data cut"),
        "enrollment": _("Enrollment"),
        "flow": _("Participant flow"),
        "baseline": _("Baseline table"),
        "quality": _("Data quality per site"),
        "primary": _("Primary outcome"),
        "secondary": _("Secondary outcomes"),
        "render": _("Drawing the PDF"),
    }


def export_steps() -> dict:
    from django.utils.translation import gettext_lazy as _

    # The codes the exports' runner (reports/exports/run.py) passes to progress().
    return {
        "capture": _("Capturing the data cut"),
        "tables": _("Reading the study's data"),
        "write": _("Writing the files"),
        "package": _("Packaging with the manifest"),
    }


def accuracy_steps() -> dict:
    from django.utils.translation import gettext_lazy as _

    # The codes the accuracy report's runner (reports/stard/report.py) passes to progress().
    return {
        "read": _("Reading the vertebrae, model outputs and reference standard"),
        "statistics": _("Computing the statistics"),
        "render": _("Drawing the PDF"),
    }
