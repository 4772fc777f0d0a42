"""Input checks shared by the accuracy statistics: 0/1 references, finite scores, equal lengths."""

import numpy as np
from numpy.typing import ArrayLike


def check_confidence(confidence: float) -> None:
    """ValueError unless 0 < confidence < 1."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie strictly between 0 and 1.")


def binary_array(values: ArrayLike, name: str) -> np.ndarray:
    """A one-dimensional boolean array from booleans or 0/1; ValueError otherwise."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional.")
    if array.dtype != bool:
        if array.size and not np.isin(array, (0, 1)).all():
            raise ValueError(f"{name} must hold only 0/1 or booleans.")
        array = array.astype(bool)
    return array


def score_array(values: ArrayLike, name: str = "scores") -> np.ndarray:
    """A one-dimensional float array of finite numbers; ValueError otherwise."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite numbers.")
    return array


def check_same_length(*arrays: np.ndarray) -> None:
    """ValueError unless every array has the same length."""
    if len({len(a) for a in arrays}) != 1:
        raise ValueError("reference, predictions, scores and clusters must have the same length.")
