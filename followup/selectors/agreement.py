"""Agreement between the two independent readers of the study's adjudication cases, read from their verdicts
and measured by followup.agreement (Cohen's kappa on the main question, weighted kappa on the Genant grade).

The pairs: one per case, the (first reader, second reader) verdicts of the case's latest round in which both
gave one (a reopened case is read again: its earlier round is superseded, and a round still waiting for one
of them is not a pair yet). The third reader's verdict is not a reading of the same question blind to the
other two, so it is left out. The Genant pair is counted where both readers graded (a "no fracture" is
grade 0); the main question's pair always.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from trial.models import Site, Study

from ..agreement import Kappa, kappa_genant, kappa_main
from ..models import ReaderSlot, Verdict

INDEPENDENT = (ReaderSlot.FIRST, ReaderSlot.SECOND)


@dataclass(frozen=True)
class Agreement:
    main: Kappa  # a new non-operated vertebral fracture, yes or no
    genant: Kappa  # the Genant grade, 0-3


def agreement_pairs(
    *, study: Study, sites: Iterable[Site] | None = None, signed_by: datetime.datetime | None = None
) -> tuple[list[tuple], list[tuple]]:
    """The (first, second) readings of the study's cases: the main question's pairs and the Genant grades'
    pairs (at these sites of the study, or all; of the verdicts signed by `signed_by`, or all). One query."""
    sites = Site.objects.filter(study=study) if sites is None else sites
    readings: dict[int, dict[int, dict[str, tuple]]] = defaultdict(lambda: defaultdict(dict))
    verdicts = Verdict.objects.filter(case__site__in=sites, assignment__slot__in=INDEPENDENT)
    if signed_by is not None:
        verdicts = verdicts.filter(signed_at__lte=signed_by)
    for case_id, round_, slot, fracture, grade in verdicts.values_list(
        "case_id", "round", "assignment__slot", "fracture", "genant_grade"
    ):
        readings[case_id][round_][slot] = (fracture, grade)
    main, genant = [], []
    for _case, rounds in sorted(readings.items()):
        both = [round_ for round_, read in rounds.items() if len(read) == len(INDEPENDENT)]
        if not both:
            continue
        first, second = (rounds[max(both)][slot] for slot in INDEPENDENT)
        main.append((first[0], second[0]))
        if first[1] is not None and second[1] is not None:
            genant.append((first[1], second[1]))
    return main, genant


def study_agreement(*, study: Study, sites: Iterable[Site] | None = None) -> Agreement:
    """The readers' agreement over the study's cases (at these sites of the study, or all). One query."""
    main, genant = agreement_pairs(study=study, sites=sites)
    return Agreement(main=kappa_main(main), genant=kappa_genant(genant))
