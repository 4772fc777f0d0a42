"""The demo screening log's realism: site shares and openings, why screenings fail, who the patients are,
and how many withdraw or are lost. Demo realism, not protocol facts."""

from collections.abc import Mapping

from ..levels import LEVELS

# Share of screenings per site, largest first (the protocol's own site leads); more sites get 1/k weights.
SITE_WEIGHTS = (0.5, 0.3, 0.2)
SITE_OPENING_GAP_DAYS = 90  # each further site starts screening about a quarter later
RAMP_UP_DAYS = 120  # a site's screening rate grows over its first months
WEEKEND_ACCEPT = 0.25  # screening happens mostly on weekdays

# How often each criterion is the reason for a screen failure. Demo realism, not a protocol fact: criteria of
# other studies fail equally often, and a code not listed gets the average weight of those listed.
FAILURE_WEIGHTS: Mapping[str, Mapping[str, float]] = {
    "NCT06379243": {
        "INC1": 0.03,  # not an osteoporotic fracture (high-energy trauma)
        "INC2": 0.25,  # no marrow oedema on MRI (chronic fracture)
        "INC3": 0.20,  # more than 3 fractured levels (computed)
        "EXC1": 0.20,  # prior vertebroplasty or spinal fixation
        "EXC2": 0.14,  # malignancy or spinal infection
        "EXC3": 0.18,  # cognitive impairment or critical illness
    },
}
SECOND_FAILURE_SHARE = 0.10  # failures that break a second criterion too
STOPPED_ASKING_SHARE = 0.20  # failures whose later questions were left unanswered

# Fracture levels cluster at the thoracolumbar junction (T11-L2); 1 level most often, 3 rarely.
LEVEL_WEIGHTS: Mapping[str, float] = dict(
    zip(LEVELS, (0.1, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 1.6, 1.8, 2.5, 6, 12, 13, 7, 4, 2.5, 1.2), strict=True)
)  # T1 ... T12, L1 ... L5
LEVEL_COUNT_WEIGHTS = {1: 0.70, 2: 0.22, 3: 0.08}
AGE_MEAN, AGE_SD, AGE_RANGE = 72.0, 7.5, (50, 98)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹"
# Two-character given names common in the patients' generation, run together and cut in pairs.
_GIVEN = {
    "female": "秀英桂英秀兰玉兰桂兰秀珍凤英玉珍玉英兰英淑珍淑英玉梅秀芳丽华美华月娥金凤",
    "male": "建国建华国华志明国强德明文华建军永康志强国平德华明华家明振华永明福生金山",
}
GIVEN_NAMES = {sex: tuple(names[i : i + 2] for i in range(0, len(names), 2)) for sex, names in _GIVEN.items()}

# Over a year of follow-up, about 3% of participants withdraw and 5% are lost (elderly patients moving in with
# family, long travel to the hospital); both grow with the time followed. Demo realism, not protocol facts.
WITHDRAWAL_PER_YEAR = 0.03
LOSS_PER_YEAR = 0.05
WITHDRAWAL_REASONS = ("Withdrew consent", "Too ill to continue", "Moved to another city")
LOSS_REASONS = ("Three calls and a letter unanswered", "Phone number no longer in service")
