"""Small draws and clocks the course shares: a site's midnight, an event's time, weighted, clamped draws."""

import datetime
import random
import zoneinfo
from collections.abc import Mapping

from ..plan import Followed


def midnight(time_zone: str, day: datetime.date) -> datetime.datetime:
    local = datetime.datetime.combine(day, datetime.time(), tzinfo=zoneinfo.ZoneInfo(time_zone))
    return local.astimezone(datetime.UTC)


def at(person: Followed, day: datetime.date, hours: float) -> str:
    return (midnight(person.time_zone, day) + datetime.timedelta(hours=hours)).isoformat()


def weighted(rng: random.Random, weights: Mapping):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def mean_at(table, day: int, rng: random.Random) -> float:
    for until, mean, sd in table:
        if day <= until:
            return rng.gauss(mean, sd)
    raise AssertionError("the tables end with a large day")
