"""New fractures after the procedure: how likely (the demo's true model, rates.REFRACTURE_TRUTH), and at
which level."""

import random
from collections.abc import Sequence

from trial.levels import LEVELS, level_index

from ..plan import Followed
from ..predictors import refracture_probability
from ..rates import ADJACENT_SHARE


def fracture_probability(person: Followed) -> float:
    """The true model's risk of an adjudicated new fracture within the horizon, from the stored predictors."""
    return refracture_probability(person.predictors)


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
