"""The demo's hidden truth for a diagnostic-accuracy study: whether each registered vertebra is acute.

The demo readers (followup) read this truth with realistic errors, and the demo models (reports) score it
with realistic discrimination, so both must draw it the same way: a pure function of the seed, the case's
study ID, group and levels, shared here, in the lowest app. Demo realism, not a protocol fact.
"""

import random

# A case is registered in a group by its index fracture (the first level registered); its other fractured
# vertebrae are older fractures more often than not, whatever its group.
OTHER_LEVEL_ACUTE = {"acute": 0.35, "chronic": 0.10}
ACUTE_GROUP = "acute"


def vertebra_is_acute(*, seed: int, study_id: str, group: str, levels: list[str], level: str) -> bool:
    """Whether the demo's vertebra `level` of case `study_id` is acute: the index (first) level is as its
    group says; each other level is acute with OTHER_LEVEL_ACUTE[group], drawn from the seed, case and
    level alone (the same answer whatever the order of the calls)."""
    if level not in levels:
        raise ValueError(f"{level} is not one of the case's levels {levels}")
    if level == levels[0]:
        return group == ACUTE_GROUP
    draw = random.Random(f"truth:{seed}:{study_id}:{level}").random()
    return draw < OTHER_LEVEL_ACUTE.get(group, OTHER_LEVEL_ACUTE["chronic"])
