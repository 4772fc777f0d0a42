"""outputs_plan: the demo models' outputs per vertebra, drawn around the demo's hidden truth. Pure: the same
cases and seed give the same rows.

Classification, the binormal model: a model's score of a vertebra is its noise (standard normal: a
patient part, a part shared by the models, its own part; rates.py) plus `shift` when the vertebra is acute,
so that its AUC is about Φ(shift / √2). The shift of each model at each centre is found by bisection on the
drawn scores themselves, so that the AUC of the rows written (the probability, rounded as in the file) is
the one aimed at to within AUC_TOLERANCE, whatever the number of cases; the probability of acute is the
logistic of the score, centred between the two classes. Segmentation: Dice per vertebra, normal around the
model's mean, clipped to DICE_RANGE.
"""

import csv
import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from trial.demo.truth import vertebra_is_acute

from ..accuracy.roc import auc_mann_whitney
from .rates import (
    AUC_JITTER,
    AUC_TOLERANCE,
    CLASSIFIERS,
    DEVELOPMENT_SPLITS,
    DICE_EXTERNAL_DROP,
    DICE_RANGE,
    DICE_SD,
    DICE_SHARED,
    EXTERNAL_DROP,
    MODEL_VERSION,
    PATIENT_SHARE,
    PROBABILITY_SLOPE,
    SEGMENTERS,
    VERTEBRA_SHARE,
)

DEVELOPMENT, EXTERNAL = "development", "external"
CENTRES = (DEVELOPMENT, EXTERNAL)
DECIMALS = 4  # as a model's export writes them; ties are few


@dataclass(frozen=True)
class Case:
    """A registered case as the models see it: its study ID, group, levels and whether its centre is an
    external-validation one."""

    study_id: str
    group: str
    levels: tuple[str, ...]
    external: bool


@dataclass(frozen=True)
class OutputRow:
    study_id: str
    level: str
    model: str
    split: str
    value: float  # the probability of acute (classification) or the Dice (segmentation)


@dataclass(frozen=True)
class OutputsPlan:
    classification: tuple[OutputRow, ...]
    segmentation: tuple[OutputRow, ...]
    aims: dict[tuple[str, str], float]  # (model, centre): the AUC aimed at
    aucs: dict[tuple[str, str], float]  # (model, centre): the AUC of the rows against the hidden truth


@dataclass(frozen=True)
class _Vertebra:
    study_id: str
    level: str
    patient: int  # index of its case among its centre's
    acute: bool
    split: str


def _splits(cases: Sequence[Case], seed: int) -> dict[str, str]:
    """Each case's split: the development centre's patients shuffled into training, validation and test in
    DEVELOPMENT_SPLITS' shares (a patient's vertebrae together), the external centre's all external."""
    development = sorted(case.study_id for case in cases if not case.external)
    random.Random(f"{seed}:splits").shuffle(development)
    splits, start = {}, 0.0
    for name, share in DEVELOPMENT_SPLITS:
        end = start + share * len(development)
        for study_id in development[round(start) : round(end)]:
            splits[study_id] = name
        start = end
    return splits | {case.study_id: EXTERNAL for case in cases if case.external}


def _vertebrae(cases: Sequence[Case], seed: int) -> dict[str, list[_Vertebra]]:
    splits = _splits(cases, seed)
    by_centre: dict[str, list[_Vertebra]] = {centre: [] for centre in CENTRES}
    for centre in CENTRES:
        own = sorted((c for c in cases if c.external == (centre == EXTERNAL)), key=lambda c: c.study_id)
        for patient, case in enumerate(own):
            levels = list(case.levels)
            for level in levels:
                acute = vertebra_is_acute(
                    seed=seed, study_id=case.study_id, group=case.group, levels=levels, level=level
                )
                by_centre[centre].append(
                    _Vertebra(case.study_id, level, patient, acute, splits[case.study_id])
                )
    return by_centre


def _probabilities(noise: np.ndarray, acute: np.ndarray, shift: float) -> np.ndarray:
    score = noise + shift * acute - shift / 2
    return np.round(1 / (1 + np.exp(-PROBABILITY_SLOPE * score)), DECIMALS)


def _shift_for(noise: np.ndarray, acute: np.ndarray, aim: float) -> float:
    """The separation whose rounded probabilities have the AUC `aim` (bisection: the AUC grows with it)."""
    if acute.all() or not acute.any():  # no AUC to aim at: the binormal model's own separation
        return math.sqrt(2) * NormalDist().inv_cdf(aim)
    low, high = 0.0, 10.0
    for _ in range(60):
        middle = (low + high) / 2
        auc = auc_mann_whitney(reference=acute, scores=_probabilities(noise, acute, middle))
        if abs(auc - aim) <= AUC_TOLERANCE:
            return middle
        low, high = (middle, high) if auc < aim else (low, middle)
    return (low + high) / 2


def _aims(seed: int) -> dict[tuple[str, str], float]:
    rng = random.Random(f"{seed}:model aims")
    aims = {}
    for model, auc in CLASSIFIERS:
        development = auc + rng.uniform(-AUC_JITTER, AUC_JITTER)
        aims[(model, DEVELOPMENT)] = development
        aims[(model, EXTERNAL)] = development - rng.uniform(*EXTERNAL_DROP)
    return aims


def _classification(
    vertebrae: dict[str, list[_Vertebra]], seed: int, aims: dict, aucs: dict
) -> list[OutputRow]:
    """The classifiers' rows, model by model; fills `aucs` with the AUC of each model's rows per centre."""
    rows: dict[str, list[OutputRow]] = {model: [] for model, _auc in CLASSIFIERS}
    own = math.sqrt(1 - PATIENT_SHARE - VERTEBRA_SHARE)
    for centre in CENTRES:
        members = vertebrae[centre]
        if not members:
            continue
        rng = np.random.default_rng(random.Random(f"{seed}:{centre}:scores").getrandbits(64))
        patients = rng.standard_normal(max(v.patient for v in members) + 1)
        shared = rng.standard_normal(len(members))
        base = math.sqrt(PATIENT_SHARE) * patients[[v.patient for v in members]]
        base = base + math.sqrt(VERTEBRA_SHARE) * shared
        acute = np.array([v.acute for v in members])
        for model, _auc in CLASSIFIERS:
            noise = base + own * rng.standard_normal(len(members))
            probabilities = _probabilities(noise, acute, _shift_for(noise, acute, aims[(model, centre)]))
            if acute.any() and not acute.all():
                aucs[(model, centre)] = auc_mann_whitney(reference=acute, scores=probabilities)
            rows[model] += [
                OutputRow(v.study_id, v.level, model, v.split, float(p))
                for v, p in zip(members, probabilities, strict=True)
            ]
    return [row for model_rows in rows.values() for row in model_rows]


def _segmentation(vertebrae: dict[str, list[_Vertebra]], seed: int) -> list[OutputRow]:
    rows: dict[str, list[OutputRow]] = {model: [] for model, _dice in SEGMENTERS}
    drops = random.Random(f"{seed}:dice")
    for centre in CENTRES:
        members = vertebrae[centre]
        rng = np.random.default_rng(random.Random(f"{seed}:{centre}:dice").getrandbits(64))
        shared = rng.standard_normal(len(members))
        for model, mean in SEGMENTERS:
            centre_mean = mean - (drops.uniform(*DICE_EXTERNAL_DROP) if centre == EXTERNAL else 0)
            own = rng.standard_normal(len(members))
            draws = centre_mean + DICE_SD * (
                math.sqrt(DICE_SHARED) * shared + math.sqrt(1 - DICE_SHARED) * own
            )
            dice = np.round(np.clip(draws, *DICE_RANGE), DECIMALS)
            rows[model] += [
                OutputRow(v.study_id, v.level, model, v.split, float(d))
                for v, d in zip(members, dice, strict=True)
            ]
    return [row for model_rows in rows.values() for row in model_rows]


def outputs_plan(cases: Sequence[Case], *, seed: int) -> OutputsPlan:
    """Every registered vertebra's output from each demo model (rates.py), as the files would give them."""
    vertebrae = _vertebrae(cases, seed)
    aims, aucs = _aims(seed), {}
    return OutputsPlan(
        classification=tuple(_classification(vertebrae, seed, aims, aucs)),
        segmentation=tuple(_segmentation(vertebrae, seed)),
        aims=aims,
        aucs=aucs,
    )


def csv_bytes(rows: Sequence[OutputRow], *, column: str) -> bytes:
    """A CSV file in the import's format (reports/README.md, "Model outputs"), the value in `column`
    (probability or dice)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["study_id", "level", "model", "version", "split", column])
    for row in rows:
        writer.writerow(
            [row.study_id, row.level, row.model, MODEL_VERSION, row.split, f"{row.value:.{DECIMALS}f}"]
        )
    return out.getvalue().encode("utf-8")
