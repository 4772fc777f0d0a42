"""Synthetic demo data: a screening log and enrollment that the real rules would have produced.

`demo_plan` (plan.py) is a pure function of its arguments and a seed (plain rows, no database), so a seed
gives the same data every time; `demo_write` (writer.py) bulk-inserts a plan; `demo_seed` (seeder.py) ties the
two to a loaded study. The services (screening_create, participant_enroll) are the normal write path but cost
several queries per row, so the writer inserts in batches and stores what they would: the verdict of
eligibility.judge, study IDs from the protocol's study_id_format, SiteSequence.last_number equal to the
participants per site, consent <= enrollment, and no date after yesterday. Nothing here is real: names come
from a short list (people.py), phones and record numbers are made up. The demo logins are in logins.py, and
what tells the demo's own rows from real ones in marks.py.

The plan follows the protocol's design: a retrospective one (consent waived) registers cases with no consent
date in its groups (design.groups), and where the criteria have an imaging rule every case has its exams
(exams.py), stored as imaging_exams_register stores them (synthetic UIDs, kept only as keyed hashes). The
hidden truth of an accuracy study's vertebrae, shared by the demo readers and models, is truth.py.
"""

from .logins import (
    DEMO_FAMILY,
    DEMO_GIVEN,
    DEMO_PASSWORD,
    DemoLogin,
    demo_logins,
    demo_person_name,
    demo_staff,
)
from .marks import DEMO_COMMAND, DEMO_EMAIL_DOMAIN, DEMO_REASON, demo_foreign_participants, demo_inserted
from .plan import demo_plan
from .rows import DemoPlan, EnrollmentRow, ExamRow, ScreeningRow
from .seeder import DEMO_SITE_CODES, DEMO_SITE_COUNT, criteria_specs, demo_seed, demo_sites
from .writer import SeedResult, demo_write

__all__ = [
    "DEMO_COMMAND",
    "DEMO_EMAIL_DOMAIN",
    "DEMO_FAMILY",
    "DEMO_GIVEN",
    "DEMO_PASSWORD",
    "DEMO_REASON",
    "DEMO_SITE_CODES",
    "DEMO_SITE_COUNT",
    "DemoLogin",
    "DemoPlan",
    "EnrollmentRow",
    "ExamRow",
    "ScreeningRow",
    "SeedResult",
    "criteria_specs",
    "demo_foreign_participants",
    "demo_inserted",
    "demo_logins",
    "demo_person_name",
    "demo_plan",
    "demo_seed",
    "demo_sites",
    "demo_staff",
    "demo_write",
]
