"""The STARD 2015 flow: from the cases screened to the vertebrae analysed, each counted once (pure).

Cases (patients) until registration, vertebrae from then on, with the counts per arm (the case's group) at
every stage after registration; before it a case has no arm. Every exit is counted under its first reason,
in the order below, so each stage is the next one plus its exits (``tests/reports/stard`` holds the sums):

- screened = ineligible (by the first failed criterion, in protocol order) + incomplete + eligible;
- eligible = not registered (by reason; "awaiting" when none is recorded) + registered cases;
- registered vertebrae = excluded (the case ``withdrawn``; ``no_centre``: its site is tagged neither
  development nor external validation) + index test;
- index test = analysed + no reference standard. A vertebra has an index test result when every
  classification model gives it a probability outside its training split; else it leaves under ``training``
  (a model was trained on it: its estimates there would be optimistic), ``no_output`` (the first model, by
  name, without an output for it) or ``no_model`` (no classification model imported);
- no reference standard: ``no_case`` (no adjudication case), ``reading_pending`` (open or disputed),
  ``cancelled``, ``no_answer`` (final without an answer).

The analysed vertebrae are the same for every model (a complete-case set), so that the models are compared
on the same vertebrae (DeLong) and the flow holds for all of them.
"""

from collections import Counter
from collections.abc import Iterable

from followup.models import CaseStatus

from .data import AccuracyData, Import, Vertebra

COHORTS = ("development", "external_validation")
TRAINING = "train"
EXCLUDED = ("withdrawn", "no_centre")
NO_INDEX_TEST = ("no_model", "training", "no_output")
NO_REFERENCE = ("no_case", "reading_pending", "cancelled", "no_answer")


def classifiers(data: AccuracyData) -> list[Import]:
    """The classification models' imports, by model name and version."""
    return [i for i in data.imports if i.kind == "classification"]


def vertebra_exit(v: Vertebra, data: AccuracyData, models: list[Import]) -> tuple[str, str, str] | None:
    """(stage, reason, model) where the vertebra leaves the flow, or None when it is analysed."""
    if v.withdrawn:
        return "excluded", "withdrawn", ""
    if v.cohort not in COHORTS:
        return "excluded", "no_centre", ""
    if not models:
        return "no_index_test", "no_model", ""
    outputs = data.outputs.get((v.participant, v.level), {})
    for model in models:
        if model.id in outputs and outputs[model.id].split == TRAINING:
            return "no_index_test", "training", model.label
    for model in models:
        if model.id not in outputs or outputs[model.id].probability is None:
            return "no_index_test", "no_output", model.label
    reading = data.readings.get((v.participant, v.level))
    if reading is None:
        return "no_reference", "no_case", ""
    if reading.status == CaseStatus.CANCELLED:
        return "no_reference", "cancelled", ""
    if reading.status != CaseStatus.FINAL:
        return "no_reference", "reading_pending", ""
    if reading.acute is None:
        return "no_reference", "no_answer", ""
    return None


def _counts(vertebrae: Iterable[Vertebra], arms: list[str]) -> dict:
    """Vertebrae and cases (patients), in total and per arm."""
    listed = list(vertebrae)
    by_arm = Counter(v.group for v in listed)
    cases = {v.participant: v.group for v in listed}
    cases_by_arm = Counter(cases.values())
    shown = arms + sorted(set(by_arm) - set(arms))
    return {
        "vertebrae": len(listed),
        "cases": len(cases),
        "arms": [{"code": arm, "vertebrae": by_arm[arm], "cases": cases_by_arm[arm]} for arm in shown],
    }


def _exits(exits: list[tuple[str, str]], order: tuple[str, ...]) -> dict:
    counted = Counter(exits)
    return {
        "n": len(exits),
        "reasons": [
            {"code": code, "model": model, "n": n}
            for (code, model), n in sorted(
                counted.items(), key=lambda item: (order.index(item[0][0]), item[0][1])
            )
        ],
    }


def stard_flow(data: AccuracyData) -> tuple[dict, list[Vertebra]]:
    """The flow's counts (the JSON's "flow") and the analysed vertebrae, in the order read."""
    criteria = [c["code"] for c in data.study["criteria"]]
    order = {code: i for i, code in enumerate(criteria)}
    texts = {c["code"]: c["text"] for c in data.study["criteria"]}
    ineligible, not_registered = Counter(), Counter()
    incomplete = eligible = registered = 0
    for outcome, failed, reason, was_registered in data.screenings:
        if was_registered or outcome == "eligible":
            eligible += 1
            registered += was_registered
            if not was_registered:
                not_registered[reason or "awaiting"] += 1
        elif outcome == "ineligible":
            first = min(failed, key=lambda code: order.get(code, len(order))) if failed else "unknown"
            ineligible[first] += 1
        else:
            incomplete += 1
    arms = [g["code"] for g in data.study["groups"]]
    models = classifiers(data)
    stages: dict[str, list[tuple[str, str]]] = {"excluded": [], "no_index_test": [], "no_reference": []}
    index_tested, analysed = [], []
    for v in data.vertebrae:
        left = vertebra_exit(v, data, models)
        if left is None:
            index_tested.append(v)
            analysed.append(v)
            continue
        stage, reason, model = left
        stages[stage].append((reason, model))
        if stage == "no_reference":
            index_tested.append(v)
    return {
        "screened": len(data.screenings),
        "ineligible": {
            "n": sum(ineligible.values()),
            "reasons": [
                {"code": code, "label": texts.get(code), "n": n}
                for code, n in sorted(ineligible.items(), key=lambda item: order.get(item[0], len(order)))
            ],
        },
        "incomplete": incomplete,
        "eligible": eligible,
        "not_registered": {
            "n": sum(not_registered.values()),
            "reasons": [{"code": code, "n": n} for code, n in sorted(not_registered.items())],
        },
        "registered_cases": registered,
        "registered": _counts(data.vertebrae, arms),
        "excluded": _exits(stages["excluded"], EXCLUDED),
        "index_test": _counts(index_tested, arms),
        "no_index_test": _exits(stages["no_index_test"], NO_INDEX_TEST),
        "no_reference": _exits(stages["no_reference"], NO_REFERENCE),
        "analysed": {
            **_counts(analysed, arms),
            "centres": [
                {"cohort": cohort, **_counts([v for v in analysed if v.cohort == cohort], arms)}
                for cohort in COHORTS
            ],
            "reference": {
                "acute": sum(1 for v in analysed if data.readings[(v.participant, v.level)].acute),
                "chronic": sum(1 for v in analysed if not data.readings[(v.participant, v.level)].acute),
            },
        },
    }, analysed
