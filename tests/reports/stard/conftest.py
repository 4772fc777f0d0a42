"""A small hand-built accuracy study (NCT07306858), every number of its report worked out by hand below.

Two classification models, A = "VGG-16 1.0" and B = "ViT 1.0", and one segmentation model "U-Net 2.1".

Development centre (CQ1), 8 analysed vertebrae of 5 cases:

    vertebra   arm      reference  A     B
    d1 L1      acute    acute      0.90  0.55
    d1 L2      acute    chronic    0.60  0.45
    d2 T12     acute    acute      0.80  0.65
    d3 L3      chronic  chronic    0.20  0.50
    d3 L4      chronic  acute      0.40  0.35
    d4 L1      chronic  chronic    0.30  0.15
    d4 L2      chronic  chronic    0.10  0.60
    d5 L2      acute    acute      0.70  0.85

Youden's J (called acute at score >= t; 4 acute, 4 chronic):
- A: t 0.9 J .25; 0.8 .50; 0.7 .75; 0.6 .50; 0.4 .75; 0.3 .50 ... The maximum .75 is reached at 0.7 and at
  0.4: the tie goes to the lowest, 0.4 (sensitivity 1, specificity .75). 2x2 at 0.4: TP 4, FN 0, FP 1, TN 3.
- B: 0.85 .25; 0.65 .50; 0.6 .25; 0.55 .50; 0.5 .25; 0.45 0; 0.35 .25; 0.15 0: the maximum .5 at 0.65 and
  0.55, so 0.55 (sensitivity .75, specificity .75). 2x2 at 0.55: TP 3, FN 1, FP 1, TN 3.

External validation centre (EXT1), 7 analysed vertebrae of 5 cases, the development thresholds applied:

    vertebra   arm      reference  A     B
    e1 L1      acute    acute      0.95  0.70
    e1 L2      acute    acute      0.35  0.60
    e2 T11     chronic  chronic    0.45  0.30
    e3 L1      chronic  chronic    0.10  0.58
    e3 L3      chronic  acute      0.50  0.50
    e4 T12     acute    acute      0.40  0.20
    e5 L4      chronic  chronic    0.40  0.10

- A at 0.4 (a score equal to it is called acute): acute 0.95 yes, 0.35 no, 0.50 yes, 0.40 yes; chronic 0.45
  yes, 0.10 no, 0.40 yes: TP 3, FN 1, FP 2, TN 1. Sensitivity 3/4, specificity 1/3, accuracy 4/7, PPV 3/5,
  NPV 1/2.
- B at 0.55: acute 0.70, 0.60 yes, 0.50, 0.20 no; chronic 0.30 no, 0.58 yes, 0.10 no: TP 2, FN 2, FP 1,
  TN 2. Sensitivity 2/4, specificity 2/3, accuracy 4/7, PPV 2/3, NPV 2/4.
  (Chosen on the external centre alone, A's threshold would be 0.5, J 1/2: it is not re-chosen there.)

Left out of the analysis, each once, under its first reason:
- w1 L1 (CQ1), its case withdrawn: excluded, withdrawn;
- n1 L1, at a site tagged with no cohort: excluded, no_centre;
- d6 L5 (CQ1): only A gives an output: no index test, no output of ViT 1.0;
- d7 T10 (CQ1): A's output is in its training split: no index test, training;
- e6 L2 (EXT1): its reading is open: no reference standard, reading_pending;
- e6 L3 (EXT1): no adjudication case: no reference standard, no_case.

Screenings: the 15 registered cases, plus two ineligible (age: INC5; INC2 and EXC1 failed: counted under
INC2, first in protocol order), one incomplete and one eligible case not registered (no reason yet): 19.

Segmentation (U-Net 2.1): Dice 0.90, 0.80, 0.85 at the development centre (and 0.99 in its training split,
left out): mean 0.85, SD 0.05; 0.70 at the external centre: one value, SD none.
"""

import datetime

import pytest

from followup.models import AdjudicationCase, CaseOrigin, CaseStatus
from reports.indextests.services import model_outputs_import
from tests.conftest import load_study
from trial.models import Participant, Role, Screening, Site

A, B, SEG = "VGG-16", "ViT", "U-Net"

DEVELOPMENT = {
    # case: (arm, [(level, acute, A, B)])
    "d1": ("acute", [("L1", True, 0.90, 0.55), ("L2", False, 0.60, 0.45)]),
    "d2": ("acute", [("T12", True, 0.80, 0.65)]),
    "d3": ("chronic", [("L3", False, 0.20, 0.50), ("L4", True, 0.40, 0.35)]),
    "d4": ("chronic", [("L1", False, 0.30, 0.15), ("L2", False, 0.10, 0.60)]),
    "d5": ("acute", [("L2", True, 0.70, 0.85)]),
}
EXTERNAL = {
    "e1": ("acute", [("L1", True, 0.95, 0.70), ("L2", True, 0.35, 0.60)]),
    "e2": ("chronic", [("T11", False, 0.45, 0.30)]),
    "e3": ("chronic", [("L1", False, 0.10, 0.58), ("L3", True, 0.50, 0.50)]),
    "e4": ("acute", [("T12", True, 0.40, 0.20)]),
    "e5": ("chronic", [("L4", False, 0.40, 0.10)]),
}


def reference_case(participant, level: str, *, acute: bool | None, status: str = CaseStatus.FINAL):
    """A reference-standard reading as the adjudication contract gives it: one case per (participant,
    level), final with `final_fracture` True for acute (made directly: followup builds them by reading)."""
    case, _created = AdjudicationCase.objects.update_or_create(  # registration may have opened it already
        participant=participant,
        level=level,
        defaults={
            "origin": CaseOrigin.REGISTRATION,
            "status": status,
            "final_fracture": acute if status == "final" else None,
        },
    )
    return case


class World:
    """The hand-built study: its participants by name, and a way to add cases and imports."""

    def __init__(self, study, coordinator, data_manager):
        self.study, self.coordinator, self.data_manager = study, coordinator, data_manager
        self.version = study.current_version
        self.cases: dict[str, Participant] = {}
        self.sequence = 0

    def screening(self, site: Site, *, outcome="eligible", failed=(), levels=(), reason="") -> Screening:
        return Screening.objects.create(
            study=self.study,
            protocol_version=self.version,
            site=site,
            screening_date=datetime.date(2026, 1, 5),
            age=70,
            sex="female",
            fracture_levels=list(levels),
            outcome=outcome,
            failed_criteria=list(failed),
            not_enrolled_reason=reason,
            screened_by=self.coordinator,
        )

    def case(self, name: str, site: Site, group: str, levels: list[str], *, status="enrolled") -> Participant:
        self.sequence += 1
        made = Participant.objects.create(
            site=site,
            screening=self.screening(site, levels=levels),
            study_id=f"{site.code}-{self.sequence:04d}",
            sequence=self.sequence,
            consent_waived=True,
            enrollment_date=datetime.date(2026, 1, 6),
            group=group,
            status=status,
            enrolled_by=self.coordinator,
        )
        self.cases[name] = made
        return made

    def import_csv(self, rows: list[tuple], *, kind="probability") -> None:
        """rows: (case name, level, model, version, split, value)."""
        lines = [f"study_id,level,model,version,split,{kind}"] + [
            f"{self.cases[c].study_id},{level},{model},{version},{split},{value}"
            for c, level, model, version, split, value in rows
        ]
        model_outputs_import(
            study=self.study, actor=self.data_manager, content=("\n".join(lines) + "\n").encode()
        )


def build(world: World) -> World:
    study = world.study
    dev, ext = study.sites.get(code="CQ1"), study.sites.get(code="EXT1")
    untagged = Site.objects.create(study=study, code="NC1", name={"en": "Untagged", "zh-hans": "未标记"})
    probabilities = []
    for site, cases in ((dev, DEVELOPMENT), (ext, EXTERNAL)):
        split = "test" if site == dev else "external"
        for name, (group, vertebrae) in cases.items():
            case = world.case(name, site, group, [v[0] for v in vertebrae])
            for level, acute, a, b in vertebrae:
                reference_case(case, level, acute=acute)
                probabilities += [(name, level, A, "1.0", split, a), (name, level, B, "1.0", split, b)]
    # Left out, each under its first reason.
    withdrawn = world.case("w1", dev, "acute", ["L1"], status="withdrawn")
    untagged_case = world.case("n1", untagged, "chronic", ["L1"])
    world.case("d6", dev, "acute", ["L5"])
    world.case("d7", dev, "chronic", ["T10"])
    world.case("e6", ext, "acute", ["L2", "L3"])
    for case in (withdrawn, untagged_case, world.cases["d6"], world.cases["d7"]):
        reference_case(case, case.screening.fracture_levels[0], acute=True)
    reference_case(world.cases["e6"], "L2", acute=None, status=CaseStatus.OPEN)
    probabilities += [
        ("w1", "L1", A, "1.0", "test", 0.5), ("w1", "L1", B, "1.0", "test", 0.5),
        ("n1", "L1", A, "1.0", "test", 0.5), ("n1", "L1", B, "1.0", "test", 0.5),
        ("d6", "L5", A, "1.0", "test", 0.5),
        ("d7", "T10", A, "1.0", "train", 0.5), ("d7", "T10", B, "1.0", "test", 0.5),
        ("e6", "L2", A, "1.0", "external", 0.5), ("e6", "L2", B, "1.0", "external", 0.5),
        ("e6", "L3", A, "1.0", "external", 0.5), ("e6", "L3", B, "1.0", "external", 0.5),
    ]  # fmt: skip
    # A first import of A with other numbers: superseded by the one above, never analysed.
    world.import_csv(
        [(c, lv, m, v, s, 0.5 if m == A else p) for c, lv, m, v, s, p in probabilities if m == A]
    )
    world.import_csv(probabilities)
    world.import_csv(
        [
            ("d1", "L1", SEG, "2.1", "test", 0.90), ("d2", "T12", SEG, "2.1", "test", 0.80),
            ("d3", "L3", SEG, "2.1", "validation", 0.85), ("d7", "T10", SEG, "2.1", "train", 0.99),
            ("e1", "L1", SEG, "2.1", "external", 0.70),
        ],
        kind="dice",
    )  # fmt: skip
    # Screenings that never became cases.
    world.screening(dev, outcome="ineligible", failed=["INC5"])
    world.screening(dev, outcome="ineligible", failed=["EXC1", "INC2"])
    world.screening(ext, outcome="incomplete")
    world.screening(ext, outcome="eligible")
    return world


@pytest.fixture
def accuracy_study(db):
    return load_study("NCT07306858")


@pytest.fixture
def staff(make_user, accuracy_study):
    """The accuracy study's people: PI, data manager, a coordinator of CQ1, an adjudicator, a monitor."""
    return {
        "pi": make_user("apipi", role=Role.PRINCIPAL_INVESTIGATOR, study=accuracy_study),
        "data_manager": make_user("adm", role=Role.DATA_MANAGER, study=accuracy_study),
        "coordinator": make_user(
            "acoord", role=Role.COORDINATOR, study=accuracy_study, site=accuracy_study.sites.get(code="CQ1")
        ),
        "adjudicator": make_user("aadj", role=Role.ADJUDICATOR, study=accuracy_study),
        "monitor": make_user("amon", role=Role.MONITOR, study=accuracy_study),
    }


@pytest.fixture
def world(accuracy_study, staff):
    return build(World(accuracy_study, staff["coordinator"], staff["data_manager"]))
