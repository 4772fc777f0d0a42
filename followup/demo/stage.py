"""The follow-up stage of seed_demo (trial.hooks.demo_stages): seed, then say what was added."""

from trial.hooks import DemoAdded
from trial.models import Role, StaffRole, Study

from ..messaging.models import StaffMessageSetting
from ..models import CaseStatus
from .seeder import followup_seed


def _english_digest_readers(study: Study) -> None:
    """The investigators of the study's last site read their digests in English (the others keep Chinese),
    so that `make run` shows digests in both languages. A setting someone changed is left as it is."""
    last = study.sites.order_by("-code").first()
    readers = StaffRole.objects.filter(site=last, role=Role.INVESTIGATOR, active=True)
    for user_id in readers.values_list("user_id", flat=True):
        StaffMessageSetting.objects.get_or_create(user_id=user_id, defaults={"language": "en"})


def followup_demo_stage(*, study: Study, seed: int) -> DemoAdded:
    """trial.hooks.demo_stages: the follow-up of the demo participants, with a line saying what was added."""
    added = followup_seed(study=study, seed=seed)
    _english_digest_readers(study)
    if not added.participants:
        return DemoAdded(
            name="followup", line=f"{study.code} follow-up: nothing to add", counts={"visits_added": 0}
        )
    states = ", ".join(f"{state} {count:,}" for state, count in sorted(added.visits.items()))
    cases = ", ".join(
        f"{status} {added.cases[status]:,}" for status in CaseStatus.values if added.cases[status]
    )
    return DemoAdded(
        name="followup",
        line=(
            f"{study.code} follow-up: {sum(added.visits.values()):,} visits ({states}), "
            f"{added.responses:,} questionnaires, {added.mris:,} follow-up MRIs, "
            f"{added.cases.total():,} adjudication cases ({cases or 'none'}) with "
            f"{added.verdicts:,} verdicts, for {added.participants:,} participants"
        ),
        counts={
            "visits_added": sum(added.visits.values()),
            "questionnaires_added": added.responses,
            "adjudication_cases_added": added.cases.total(),
            "verdicts_added": added.verdicts,
        },
    )
