"""The follow-up stage of seed_demo (trial.hooks.demo_stages): seed, then say what was added."""

from trial.hooks import DemoAdded
from trial.models import Study

from .seeder import followup_seed


def followup_demo_stage(*, study: Study, seed: int) -> DemoAdded:
    """trial.hooks.demo_stages: the follow-up of the demo participants, with a line saying what was added."""
    added = followup_seed(study=study, seed=seed)
    if not added.participants:
        return DemoAdded(
            name="followup", line=f"{study.code} follow-up: nothing to add", counts={"visits_added": 0}
        )
    states = ", ".join(f"{state} {count:,}" for state, count in sorted(added.visits.items()))
    return DemoAdded(
        name="followup",
        line=(
            f"{study.code} follow-up: {sum(added.visits.values()):,} visits ({states}), "
            f"{added.responses:,} questionnaires, {added.mris:,} follow-up MRIs, "
            f"{added.cases:,} adjudication cases for {added.participants:,} participants"
        ),
        counts={"visits_added": sum(added.visits.values()), "questionnaires_added": added.responses},
    )
