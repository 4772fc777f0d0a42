"""New fractures after the procedure: how likely from a participant's risk factors, and at which level."""

import math
import random
from collections.abc import Sequence

from trial.levels import LEVELS, level_index

from ..plan import Followed
from ..rates import ADJACENT_SHARE, FRACTURE_INTERCEPT, FRACTURE_LOG_ODDS


def fracture_probability(person: Followed) -> float:
    risk = person.risk
    logit = FRACTURE_INTERCEPT + sum(
        FRACTURE_LOG_ODDS[name] * risk.get(name, 0) for name in FRACTURE_LOG_ODDS
    )
    return 1 / (1 + math.exp(-logit))


def new_level(rng: random.Random, treated: Sequence[str]) -> tuple[str, str]:
    """A level that was not treated, and whether it is adjacent to a treated one or remote."""
    treated_at = {level_index(level) for level in treated}
    adjacent = [
        level
        for level in LEVELS
        if level_index(level) not in treated_at and any(abs(level_index(level) - t) == 1 for t in treated_at)
    ]
    remote = [
        level
        for level in LEVELS
        if level_index(level) not in treated_at and all(abs(level_index(level) - t) > 1 for t in treated_at)
    ]
    # Remote fractures cluster at the thoracolumbar junction too (demo realism): weighted by closeness to T12.
    if adjacent and (rng.random() < ADJACENT_SHARE or not remote):
        return rng.choice(adjacent), "adjacent"
    weights = [1 / (1 + abs(level_index(level) - level_index("T12"))) for level in remote]
    return rng.choices(remote, weights=weights)[0], "remote"


def level_relation(level: str, treated: Sequence[str]) -> tuple[bool, str]:
    distances = [abs(level_index(level) - level_index(t)) for t in treated]
    if 0 in distances:
        return True, "treated"
    return False, "adjacent" if 1 in distances else "remote"
