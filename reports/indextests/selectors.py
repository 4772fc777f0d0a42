"""Reads of model outputs shared by the API and the pages: each a fixed number of queries."""

from django.db.models import QuerySet
from django.http import Http404

from trial.access import visible_sites

from .access import READ_ROLES, require_study_role
from .models import AnalysisLock, ModelImport, ModelOutput


def model_import_list(*, study, model: str | None = None) -> QuerySet:
    """The study's imports, by model and newest version first, with who imported and whether the locked
    analysis uses each: one query a page."""
    imports = (
        ModelImport.objects.filter(study=study)
        .select_related("study", "imported_by", "analysed")
        .order_by("model_name", "model_version", "-version", "pk")
    )
    return imports.filter(model_name=model) if model else imports


def model_import_get(*, study, pk: int) -> ModelImport:
    """One import of the study (404 if not the study's). One query."""
    found = model_import_list(study=study).filter(pk=pk).first()
    if found is None:
        raise Http404("No such import.")
    return found


def model_output_list(*, model_import) -> QuerySet:
    """An import's rows in the file's order, with their participant: one query a page."""
    return (
        ModelOutput.objects.filter(model_import=model_import)
        .select_related("participant")
        .order_by("line", "pk")
    )


def model_output_get(*, user, pk: int) -> ModelOutput:
    """One vertebra's output for a reader: 404 if it does not exist or its study is hidden from the user, 403
    without a reading role. Two queries."""
    output = (
        ModelOutput.objects.select_related("model_import__study", "participant")
        .filter(pk=pk, model_import__study__in=visible_sites(user).values("study"))
        .first()
    )
    if output is None:
        raise Http404("No such output.")
    require_study_role(user, output.model_import.study, READ_ROLES)
    return output


def analysis_lock_get(*, study) -> AnalysisLock | None:
    """The study's analysis lock with who locked it, or None. One query."""
    return AnalysisLock.objects.select_related("locked_by").filter(study=study).first()
