"""Synthetic CRF data for the demo: the forms of every enrolled participant, as the services would store them.

`crf_plan` (casebook/) is a pure function of the participants, a seed and today's date (plain rows, no
database). Each participant draws from a random stream of its own (seed and study ID), so a casebook does not
depend on who else is planned with it: chunks plan the same as the whole, and a second run plans nothing new.
`crf_rows` (writer.py) turns a plan into table rows, `crf_write` bulk-inserts them, and `crf_seed`
(seeder.py) ties these to the study's participants that have no form yet; `crf_demo_stage` (stage.py) is
seed_demo's CRF stage.

What is stored is what crf_save and the life-cycle services would have stored: data as clean_data returns it,
one automatic query per soft warning that evaluate reports (with the other forms as context), complete forms
with no missing value or failing hard check, a signature with the record version and data fingerprint for
every signed or locked form. Dates follow a casebook's real order: the diagnostic MRI before screening, the
procedure 0-3 days after enrollment, discharge 2-5 days later; forms are entered, completed, verified by the
monitor, signed by the site investigator and locked by the data manager with realistic delays, so older
participants are mostly locked and the last weeks' ones are drafts or not started. Ranges and rates
(rates.py) follow shared/domain.md; where it gives none the value is demo realism, said so beside it.
"""

from .casebook import crf_plan
from .plan import Enrolled, FormPlan, QueryPlan, QueryStep
from .seeder import CrfSeedResult, crf_seed
from .stage import crf_demo_stage, crf_summary
from .writer import crf_rows, crf_write

__all__ = [
    "CrfSeedResult",
    "Enrolled",
    "FormPlan",
    "QueryPlan",
    "QueryStep",
    "crf_demo_stage",
    "crf_plan",
    "crf_rows",
    "crf_seed",
    "crf_summary",
    "crf_write",
]
