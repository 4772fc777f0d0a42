"""The rows of the workbench: a developed model's figures are written once, a frozen model never changes (the
database refuses it, whoever asks), neither is ever deleted, a validation is never changed; every change of a
model is in the audit trail."""

import pytest
from django.db import DatabaseError, connection, transaction

from reports.models import RiskModel, RiskValidation
from reports.riskmodel.models import CohortSource

from .workbench import SMALL_MODEL, stored_model

pytestmark = pytest.mark.django_db


def refused(statement, *params) -> bool:
    """Whether the database refuses a raw statement (it rolls back only its own savepoint)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except DatabaseError:
        return True
    return False


TABLE = RiskModel._meta.db_table


def test_a_frozen_models_json_cannot_be_updated(study, people):
    made = stored_model(study, people["pi"], frozen=True)
    changed = {**SMALL_MODEL, "intercept": -5.0}
    with pytest.raises(DatabaseError), transaction.atomic():
        RiskModel.objects.filter(pk=made.pk).update(model=changed)
    # Nor through SQL, nor any other column of it (the state, the name, the reason).
    assert refused(f"UPDATE {TABLE} SET result = '{{}}'::jsonb WHERE id = %s", made.pk)  # noqa: S608
    assert refused(f"UPDATE {TABLE} SET state = 'developed' WHERE id = %s", made.pk)  # noqa: S608
    assert refused(f"UPDATE {TABLE} SET name = 'other' WHERE id = %s", made.pk)  # noqa: S608
    made.refresh_from_db()
    assert made.model == SMALL_MODEL and made.state == "frozen" and made.name == "Small model"


def test_a_developed_models_figures_and_hashes_are_written_once(study, people):
    made = stored_model(study, people["pi"])
    for column, value in (
        ("model", "'{}'::jsonb"),
        ("result", "'{}'::jsonb"),
        ("spec_text", "'other'"),
        ("spec_sha256", "'" + "c" * 64 + "'"),
        ("cut_sha256", "'" + "c" * 64 + "'"),
        ("seed", "8"),
    ):
        assert refused(f"UPDATE {TABLE} SET {column} = {value} WHERE id = %s", made.pk), column  # noqa: S608
    # What freezing writes is allowed while it is developed: the state, who, when, why.
    RiskModel.objects.filter(pk=made.pk).update(name="Renamed")
    assert RiskModel.objects.get(pk=made.pk).name == "Renamed"


def test_models_and_validations_are_never_deleted(study, people):
    made = stored_model(study, people["pi"], frozen=True)
    assert refused(f"DELETE FROM {TABLE} WHERE id = %s", made.pk)  # noqa: S608
    validation = RiskValidation.objects.create(
        risk_model=made, source=CohortSource.IMPORT, cut_sha256="d" * 64, file_name="cohort.csv",
        result={"kind": "validation"}, job=stored_model(study, people["pi"], name="other").job,
        created_at=made.developed_at, created_by=people["pi"],
    )  # fmt: skip
    table = RiskValidation._meta.db_table
    assert refused(f"UPDATE {table} SET result = '{{}}'::jsonb WHERE id = %s", validation.pk)  # noqa: S608
    assert refused(f"DELETE FROM {table} WHERE id = %s", validation.pk)  # noqa: S608


def test_every_change_of_a_model_is_audited(study, people):
    made = stored_model(study, people["pi"])
    RiskModel.objects.filter(pk=made.pk).update(name="Renamed")
    events = made.events.order_by("pgh_id").values_list("pgh_label", "name")
    assert list(events) == [("insert", "Small model"), ("update", "Renamed")]
