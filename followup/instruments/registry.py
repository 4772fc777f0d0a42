"""The instruments the trial collects, as data: codes, versions, section names, scale and MCID.

Names only: the wording of the ODI statements is licensed (Mapi Research Trust) and never in the repository;
a site loads its own (`manage.py load_instrument_text`). Texts are {"en": ..., "zh-hans": ...}.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from trial.errors import InvalidInput
from trial.i18n import localized


@dataclass(frozen=True)
class Section:
    code: str
    name: dict[str, str]


@dataclass(frozen=True)
class Band:
    """A band of scores; `upper` is included (see odi.py for the boundary rule)."""

    code: str
    upper: Decimal
    label: dict[str, str]


@dataclass(frozen=True)
class InstrumentDef:
    code: str
    version: str
    name: dict[str, str]
    unit: str  # "%" for the ODI, "mm" for the VAS
    minimum: int
    maximum: int
    mcid: Decimal  # minimal clinically important improvement, in the instrument's unit (domain.md)
    lower_is_better: bool = True
    sections: tuple[Section, ...] = ()
    bands: tuple[Band, ...] = ()
    statements_per_section: int = 0
    # The wording is licensed and not in the repository: until a site loads it, pages show placeholders
    # that staff can enter from a paper form but a patient cannot answer (no patient link: services.links).
    licensed_wording: bool = False

    def band_label(self, code: str | None, language: str | None = None) -> str:
        band = next((b for b in self.bands if b.code == code), None)
        return localized(band.label, language) if band else ""


ODI = InstrumentDef(
    code="odi",
    version="2.1a",
    name={"en": "Oswestry Disability Index", "zh-hans": "Oswestry 功能障碍指数"},
    unit="%",
    minimum=0,
    maximum=100,
    mcid=Decimal(10),
    statements_per_section=6,
    licensed_wording=True,
    # The order of the questionnaire (domain.md); answers[i] is sections[i].
    sections=(
        Section("pain_intensity", {"en": "Pain intensity", "zh-hans": "疼痛程度"}),
        Section("personal_care", {"en": "Personal care", "zh-hans": "生活自理"}),
        Section("lifting", {"en": "Lifting", "zh-hans": "提物"}),
        Section("walking", {"en": "Walking", "zh-hans": "行走"}),
        Section("sitting", {"en": "Sitting", "zh-hans": "坐"}),
        Section("standing", {"en": "Standing", "zh-hans": "站立"}),
        Section("sleeping", {"en": "Sleeping", "zh-hans": "睡眠"}),
        Section("sex_life", {"en": "Sex life (if applicable)", "zh-hans": "性生活（如适用）"}),  # noqa: RUF001
        Section("social_life", {"en": "Social life", "zh-hans": "社会生活"}),
        Section("travelling", {"en": "Travelling", "zh-hans": "出行"}),
    ),
    bands=(
        Band("minimal", Decimal(20), {"en": "minimal disability", "zh-hans": "轻度功能障碍"}),
        Band("moderate", Decimal(40), {"en": "moderate disability", "zh-hans": "中度功能障碍"}),
        Band("severe", Decimal(60), {"en": "severe disability", "zh-hans": "重度功能障碍"}),
        Band("crippled", Decimal(80), {"en": "crippled", "zh-hans": "残疾"}),
        Band(
            "bed_bound",
            Decimal(100),
            {"en": "bed-bound or exaggerating symptoms", "zh-hans": "卧床不起或症状夸大"},
        ),
    ),
)

VAS = InstrumentDef(
    code="vas",
    version="1.0",
    name={"en": "Pain visual analogue scale (0-100 mm)", "zh-hans": "疼痛视觉模拟评分（0-100 毫米）"},  # noqa: RUF001
    unit="mm",
    minimum=0,
    maximum=100,
    mcid=Decimal(15),
)

INSTRUMENTS: dict[str, InstrumentDef] = {ODI.code: ODI, VAS.code: VAS}


@dataclass(frozen=True)
class ScoreResult:
    """A computed score: `score` has one decimal (None when it cannot be computed), `band` a code or None."""

    score: Decimal | None
    band: str | None
    answered: int
    values: tuple[int | None, ...] = field(default=())  # the value counted per item, None when unanswered


def instrument_def(code: str) -> InstrumentDef:
    """The instrument named `code`; an unknown code is the client's mistake (400)."""
    found = INSTRUMENTS.get(code) if isinstance(code, str) else None
    if found is None:
        raise InvalidInput(
            _("Unknown questionnaire %(code)s.") % {"code": str(code)[:32]},
            field_errors={"instrument": [_("Choose one of: %(codes)s.") % {"codes": ", ".join(INSTRUMENTS)}]},
        )
    return found
