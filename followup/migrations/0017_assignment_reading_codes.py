"""Each reader's assignment gets a random reading code (followup/reading_codes.py): the name the blinded
reader knows the case by, instead of its number. Added empty, filled for the assignments already made (a
code each, none repeated), then made required and unique. The audit trigger is recompiled to leave the code
out (set once with the row, never changed)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

import followup.reading_codes

BATCH = 2000  # rows updated per statement: a long study has tens of thousands of assignments


def codes_given(apps, schema_editor):
    from followup.reading_codes import new_reading_code

    assignment = apps.get_model("followup", "CaseAssignment")
    used = set()
    pending = []
    for row in assignment.objects.filter(reading_code__isnull=True).only("pk").order_by("pk").iterator():
        code = new_reading_code()
        while code in used:
            code = new_reading_code()
        used.add(code)
        row.reading_code = code
        pending.append(row)
        if len(pending) == BATCH:
            assignment.objects.bulk_update(pending, ["reading_code"])
            pending = []
    assignment.objects.bulk_update(pending, ["reading_code"])


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0016_registered_vertebra_cases"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="caseassignment",
            name="update_update",
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="caseassignment",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."active" IS DISTINCT FROM (NEW."active") OR OLD."assigned_at" IS DISTINCT FROM (NEW."assigned_at") OR OLD."case_id" IS DISTINCT FROM (NEW."case_id") OR OLD."ended_at" IS DISTINCT FROM (NEW."ended_at") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."reader_id" IS DISTINCT FROM (NEW."reader_id") OR OLD."slot" IS DISTINCT FROM (NEW."slot"))',  # noqa: E501
                    func='INSERT INTO "followup_caseassignmentevent" ("active", "assigned_at", "case_id", "ended_at", "id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reader_id", "slot") VALUES (NEW."active", NEW."assigned_at", NEW."case_id", NEW."ended_at", NEW."id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."reader_id", NEW."slot"); RETURN NULL;',  # noqa: E501
                    hash="77f4988e499e6e316f0b66e6709f2eea9a63f41f",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_d2ac7",
                    table="followup_caseassignment",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="caseassignment",
            name="reading_code",
            field=models.CharField(max_length=8, null=True, verbose_name="reading code"),
        ),
        migrations.RunPython(codes_given, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="caseassignment",
            name="reading_code",
            field=models.CharField(
                default=followup.reading_codes.new_reading_code,
                max_length=8,
                unique=True,
                verbose_name="reading code",
            ),
        ),
    ]
