"""The vertebral levels a thoracolumbar study records, in anatomical order (T1 cranial to L5 caudal)."""

LEVELS: tuple[str, ...] = tuple(f"T{n}" for n in range(1, 13)) + tuple(f"L{n}" for n in range(1, 6))
_INDEX = {level: i for i, level in enumerate(LEVELS)}


def level_index(level: str) -> int:
    """Position of a level from T1 (0) to L5 (16); KeyError for anything else."""
    return _INDEX[level]


def is_level(value: object) -> bool:
    return isinstance(value, str) and value in _INDEX


def levels_between(first: str, last: str) -> tuple[str, ...]:
    """All levels from first to last inclusive, e.g. T5..L5."""
    return LEVELS[level_index(first) : level_index(last) + 1]
