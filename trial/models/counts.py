"""Per-site counts for the dashboard, kept by the database as screenings and participants are written.

Counting 70,000 screenings for each dashboard view grew with the data; these rows are read in one query
whatever the number of participants. Statement-level triggers on the screening log and the participants add
each statement's net change (an INSERT ... SELECT of 2,000 demo rows is one update per key, not 2,000), so
every way of writing counts: the services, bulk_create, the demo's raw SQL, an UPDATE by hand. A correction
that changes no counted value writes nothing.

Keys: `screened`, `eligible`, `failed:<criterion code>` (each failed criterion of an ineligible screening, for
the screen-failure reasons), `enrolled` and `active` (participants still followed, status enrolled).
"""

import pgtrigger
from django.db import models

from .participant import Participant, ParticipantStatus
from .screening import Outcome, Screening

SCREENED, ELIGIBLE, ENROLLED, ACTIVE = "screened", "eligible", "enrolled", "active"
FAILED = "failed:"  # + the criterion code

TABLE = "trial_sitecount"


class SiteCount(models.Model):
    """One count of one site (see the module's docstring for the keys). Written by triggers only."""

    site = models.ForeignKey("trial.Site", on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=64)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "key"], name="site_count_unique")]

    def __str__(self) -> str:
        return f"{self.site_id} {self.key}={self.n}"


def screening_terms(rows: str, sign: int) -> str:
    """(site_id, key, delta) of each screening of relation `rows`, counted with `sign`."""
    return (
        f"SELECT site_id, '{SCREENED}' AS key, {sign} AS delta FROM {rows} "  # noqa: S608 -- constants only
        f"UNION ALL SELECT site_id, '{ELIGIBLE}', {sign} FROM {rows} WHERE outcome = '{Outcome.ELIGIBLE}' "
        f"UNION ALL SELECT site_id, '{FAILED}' || code, {sign} FROM {rows}, unnest(failed_criteria) AS code "
        f"WHERE outcome = '{Outcome.INELIGIBLE}'"
    )


def participant_terms(rows: str, sign: int) -> str:
    """(site_id, key, delta) of each participant of relation `rows`, counted with `sign`."""
    return (
        f"SELECT site_id, '{ENROLLED}' AS key, {sign} AS delta FROM {rows} "  # noqa: S608 -- constants only
        f"UNION ALL SELECT site_id, '{ACTIVE}', {sign} FROM {rows} "
        f"WHERE status = '{ParticipantStatus.ENROLLED}'"
    )


def add_counts(terms: str) -> str:
    """Add the net deltas of `terms` to the counts. Keys in a fixed order, so that two transactions lock
    the count rows in the same order and cannot deadlock; keys whose net change is zero are not written."""
    return (
        f"INSERT INTO {TABLE} AS c (site_id, key, n) "  # noqa: S608 -- constants only
        f"SELECT site_id, key, sum(delta) FROM ({terms}) AS d "
        "GROUP BY site_id, key HAVING sum(delta) <> 0 ORDER BY site_id, key "
        "ON CONFLICT (site_id, key) DO UPDATE SET n = c.n + EXCLUDED.n;"
    )


def _triggers(name: str, terms) -> list[pgtrigger.Trigger]:
    changes = {
        "insert": (pgtrigger.Insert, pgtrigger.Referencing(new="new_rows"), terms("new_rows", 1)),
        "update": (
            pgtrigger.Update,
            pgtrigger.Referencing(old="old_rows", new="new_rows"),
            f"{terms('new_rows', 1)} UNION ALL {terms('old_rows', -1)}",
        ),
        "delete": (pgtrigger.Delete, pgtrigger.Referencing(old="old_rows"), terms("old_rows", -1)),
    }
    return [
        pgtrigger.Trigger(
            name=f"{name}_count_{event}",
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=operation,
            referencing=referencing,
            func=f"{add_counts(sql)} RETURN NULL;",
        )
        for event, (operation, referencing, sql) in changes.items()
    ]


pgtrigger.register(*_triggers("screening", screening_terms))(Screening)
pgtrigger.register(*_triggers("participant", participant_terms))(Participant)

# The counts of rows written before the triggers existed (the migration that adds them runs these).
BACKFILL = [
    add_counts(screening_terms(Screening._meta.db_table, 1)),
    add_counts(participant_terms(Participant._meta.db_table, 1)),
]
