"""Random draws the casebooks share: weighted choices, truncated normals, a site's midnight, and each site's
equipment and surgeons."""

import datetime
import functools
import random
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

from .rates import DXA_DEVICES, ROI_SETS, SCANNER_WEIGHTS, SCANNERS, SURGEONS


def weighted(rng: random.Random, weights: Mapping) -> object:
    """One key of `weights`, drawn in proportion to its value (random.choices, without its list copies)."""
    x = rng.random() * sum(weights.values())
    for value, weight in weights.items():
        x -= weight
        if x < 0:
            return value
    return value


def gauss(rng: random.Random, mean: float, sd: float, low: float, high: float) -> float:
    """A normal draw redrawn until it lies in [low, high]: a truncated normal, with no pile at the bounds."""
    for _ in range(100):
        value = rng.gauss(mean, sd)
        if low <= value <= high:
            return value
    return min(max(mean, low), high)


@functools.lru_cache(maxsize=8192)
def midnight(time_zone: str, day: datetime.date) -> datetime.datetime:
    """The start of `day` at a site, in UTC (cached: a whole study's events fall on a few thousand days)."""
    local = datetime.datetime.combine(day, datetime.time(), tzinfo=zoneinfo.ZoneInfo(time_zone))
    return local.astimezone(datetime.UTC)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@dataclass
class SiteEquipment:
    """A site's equipment and surgeons: drawn from the seed and the site code, the same for its patients."""

    dxa: str
    dxa_model: str
    scanner: str
    model_3t: str
    model_15t: str
    roi_set: tuple[str, ...]
    surgeons: tuple[str, ...]

    @classmethod
    def draw(cls, seed: int, code: str) -> "SiteEquipment":
        rng = random.Random(f"{seed}:site:{code}")
        dxa = rng.choice(("hologic", "hologic", "ge_lunar"))
        scanner = weighted(rng, SCANNER_WEIGHTS)
        _seq, models_3t, models_15t, _sw, _v = SCANNERS[scanner]
        return cls(
            dxa=dxa,
            dxa_model=rng.choice(DXA_DEVICES[dxa]),
            scanner=scanner,
            model_3t=rng.choice(models_3t),
            model_15t=rng.choice(models_15t),
            roi_set=weighted(rng, ROI_SETS),
            surgeons=tuple(f"Dr {name}" for name in rng.sample(SURGEONS, 3)),
        )


_EQUIPMENT: dict[tuple[int, str], SiteEquipment] = {}


def site_equipment(seed: int, code: str) -> SiteEquipment:
    key = (seed, code)
    if key not in _EQUIPMENT:
        _EQUIPMENT[key] = SiteEquipment.draw(seed, code)
    return _EQUIPMENT[key]
