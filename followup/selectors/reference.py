"""The reference standard of a diagnostic-accuracy study, as adjudicated: one final answer per participant and
vertebra (e.g. acute on MRI), for the accuracy report (reports reads it; followup never reads reports).

The contract: one AdjudicationCase per (participant, level); a final case (`status == CaseStatus.FINAL`)
holds its final answer in `final_fracture`, True for the protocol question's positive answer (acute, for
NCT07306858). Cases not final (open, disputed, cancelled) have no reference answer yet and are left out.
"""

from trial.models import Study

from ..models import AdjudicationCase, CaseStatus


def reference_standard(study: Study) -> dict[tuple[int, str], bool]:
    """{(participant id, level): final answer} of the study's final cases. One query."""
    rows = AdjudicationCase.objects.filter(site__study=study, status=CaseStatus.FINAL).values_list(
        "participant_id", "level", "final_fracture"
    )
    return {(participant_id, level): answer for participant_id, level, answer in rows.order_by()}
