# ruff: noqa: RUF001
# (Chinese labels, with their full-width punctuation.)
"""The building blocks of the sample figures (figures_sample.py): labels, Wilson intervals worked from the
formula, the accrual months, the curves, the quality rows and the instruments."""

import hashlib
import math

SHA256 = hashlib.sha256(b"sample data cut").hexdigest()

SITE_07 = {"en": "The Seventh Affiliated Hospital, Sun Yat-sen University", "zh-hans": "中山大学附属第七医院"}
SITE_11 = {"en": "Guangdong Provincial People's Hospital", "zh-hans": "广东省人民医院"}


def _label(en: str, zh: str) -> dict:
    return {"en": en, "zh-hans": zh}


def _wilson(events: int, n: int, z: float = 1.959963984540054) -> tuple[float, float, float]:
    p = events / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, centre - half, centre + half


def _monthly() -> list[dict]:
    """35 months, 2024-01 to 2026-11, 388 enrolled in all: a ramp up, then about 12 a month."""
    counts = [
        3,
        5,
        6,
        8,
        9,
        10,
        10,
        11,
        12,
        12,
        11,
        9,
        12,
        13,
        12,
        11,
        12,
        13,
        12,
        12,
        13,
        12,
        11,
        10,
        12,
        13,
        14,
        13,
        14,
        13,
        13,
        13,
        13,
        12,
        9,
    ]
    assert sum(counts) == 388
    rows, cumulative = [], 0
    for i, n in enumerate(counts):
        cumulative += n
        rows.append({"month": f"{2024 + i // 12}-{i % 12 + 1:02d}", "enrolled": n, "cumulative": cumulative})
    return rows


def _curves() -> dict:
    """Step curves of 14 re-fractures among 372 treated, 4 competing deaths, to day 365."""
    event_days = [18, 33, 41, 60, 77, 95, 120, 151, 170, 204, 233, 260, 301, 340]
    times, cif, km = [0], [0.0], [0.0]
    at_risk = 372
    survival = 1.0
    for i, day in enumerate(event_days):
        at_risk -= 9 if i else 0  # censored between events
        survival *= 1 - 1 / at_risk
        times.append(day)
        km.append(1 - survival)
        cif.append((i + 1) / 372 * 0.99)
        at_risk -= 1
    return {
        "times": times,
        "cif": cif,
        "km": km,
        "at_risk": [{"day": d, "n": n} for d, n in ((0, 372), (90, 301), (180, 255), (270, 230), (360, 212))],
        "cif_horizon": cif[-1],
        "km_horizon": km[-1],
    }


def _forms(expected, complete, verified, signed, locked):
    return {
        "expected": expected,
        "complete": complete,
        "verified": verified,
        "signed": signed,
        "locked": locked,
    }


def _quality(code, name, forms, queries, visits, questionnaires, reminders):
    site = {
        "forms": _forms(*forms),
        "queries": {
            "open": sum(queries),
            "bands": dict(zip(("0_7", "8_30", "31_90", "over_90"), queries, strict=True)),
        },
        "visits": dict(zip(("due", "overdue", "missed"), visits, strict=True)),
        "questionnaires": dict(zip(("patient", "staff"), questionnaires, strict=True)),
        "reminders": dict(zip(("sent", "failed", "unconfirmed"), reminders, strict=True)),
    }
    return {"code": code, "name": name, **site} if code else site


def _sum(a: dict, b: dict) -> dict:
    return {
        k: _sum(v, b[k]) if isinstance(v, dict) else v + b[k]
        for k, v in a.items()
        if k not in ("code", "name")
    }


def _instrument(code, label, unit, mcid, visits, change, met, met_relative):
    rows = []
    for visit_code, visit_label, n, mean, sd in visits:
        half = 1.97 * sd / math.sqrt(n)
        rows.append(
            {
                "code": visit_code,
                "label": visit_label,
                "n": n,
                "mean": mean,
                "sd": sd,
                "lo": mean - half,
                "hi": mean + half,
            }
        )
    n_change = change[0]

    def share(met_n):
        p, lo, hi = _wilson(met_n, n_change)
        return {"n": n_change, "met": met_n, "percent": 100 * p, "lo": 100 * lo, "hi": 100 * hi}

    return {
        "code": code,
        "label": label,
        "unit": unit,
        "mcid_threshold": mcid,
        "visits": rows,
        "change": {
            "visit": "M12",
            "label": _label("12 months", "术后12个月"),
            "n": n_change,
            "mean": change[1],
            "lo": change[2],
            "hi": change[3],
        },
        "mcid": share(met),
        "mcid_relative": share(met_relative),
    }


BL, M1, M3, M6, M12 = (
    ("BL", _label("Baseline (before the procedure)", "基线（术前）")),
    ("M1", _label("1 month", "术后1个月")),
    ("M3", _label("3 months", "术后3个月")),
    ("M6", _label("6 months", "术后6个月")),
    ("M12", _label("12 months", "术后12个月")),
)
