# ruff: noqa: RUF001
# (Chinese labels, with their full-width punctuation.)
"""Figures dicts (reports/FIGURES.md) for the PDF's tests: a study 388 participants into accrual, and one
with no data yet. The counts add up as the contract says (test_pdf checks it, so the sample stays honest)."""

import copy

from .figures_parts import (
    BL,
    M1,
    M3,
    M6,
    M12,
    SHA256,
    SITE_07,
    SITE_11,
    _curves,
    _instrument,
    _label,
    _monthly,
    _quality,
    _sum,
    _wilson,
)


def figures_sample() -> dict:
    """A study 388 participants into its accrual of 560 at two sites, 14 adjudicated re-fractures."""
    p, lo, hi = _wilson(14, 209)
    site_07 = _quality(
        "07", SITE_07, (3120, 2984, 2710, 2455, 1980), (12, 7, 3, 1), (41, 9, 6), (610, 402), (1450, 23, 61)
    )
    site_11 = _quality(
        "11", SITE_11, (690, 611, 540, 498, 320), (5, 4, 2, 2), (12, 4, 3), (98, 131), (260, 9, 17)
    )
    criterion = {
        "INC1": _label(
            "Osteoporotic vertebral fracture of the thoracic or lumbar spine, diagnosed by the 2022 "
            "Chinese osteoporotic fracture guideline.",
            "参照《骨质疏松性骨折诊疗指南（2022年版）》诊断为胸腰椎骨质疏松性椎体骨折。",
        ),
        "INC2": _label(
            "MRI shows bone marrow oedema or haemorrhage (acute fracture) in the fractured vertebra, "
            "and the responsible vertebra is treated with PVP/PKP.",
            "MRI 明确骨折椎体存在骨髓水肿或出血（新鲜骨折），责任椎体行 PVP/PKP 治疗。",
        ),
        "INC3": _label(
            "1 to 3 fractured vertebrae (old fractures included), thoracic or lumbar.",
            "骨折椎体数为 1–3 个（包括陈旧性骨折），位于胸椎或腰椎。",
        ),
        "EXC1": _label(
            "History of severe scoliosis, vertebroplasty, or internal spinal fixation.",
            "既往有严重脊柱侧弯、椎体成形术或脊柱内固定手术史。",
        ),
        "EXC2": _label("Spinal infection or malignant neoplastic disease.", "存在脊柱感染或恶性肿瘤性疾病。"),
        "EXC3": _label(
            "Mental disease, cognitive impairment, or critical illness (e.g. severe cardiac or "
            "cerebrovascular disease).",
            "存在精神疾病、认知障碍或危重疾病（如严重心脑血管疾病）。",
        ),
    }
    ineligible = {"INC1": 10, "INC2": 24, "INC3": 8, "EXC1": 12, "EXC2": 7, "EXC3": 5}
    return {
        "study": {
            "code": "NCT06379243",
            "title": _label(
                "Development and Validation of a Postoperative Re-fracture Risk Model for "
                "Osteoporotic Spinal Fractures",
                "骨质疏松性脊柱骨折术后再骨折风险模型的建立与验证",
            ),
            "protocol_version": "1.1",
            "target": 560,
            "horizon_days": 365,
        },
        "cut": {
            "at": "2026-11-26T02:00:00+00:00",
            "date": "2026-11-26",
            "sha256": SHA256,
            "generated_by": "Dr Chen Wei (pi)",
            "generated_at": "2026-11-26T02:00:05+00:00",
        },
        "enrollment": {
            "sites": [
                {
                    "code": "07",
                    "name": SITE_07,
                    "screened": 412,
                    "eligible": 356,
                    "enrolled": 318,
                    "target": 400,
                },
                {
                    "code": "11",
                    "name": SITE_11,
                    "screened": 96,
                    "eligible": 80,
                    "enrolled": 70,
                    "target": 160,
                },
            ],
            "total": {"screened": 508, "eligible": 436, "enrolled": 388, "target": 560},
            "monthly": _monthly(),
            "projection": {
                "enrolled": 388,
                "remaining": 172,
                "first": "2024-01-05",
                "days_observed": 1056.0,
                "rate_per_month": 11.183712121212121,
                "reached": False,
                "median": "2028-03-30",
                "pi80": ["2028-02-01", "2028-06-02"],
                "pi95": ["2028-01-08", "2028-07-19"],
            },
        },
        "flow": {
            "screened": 508,
            "ineligible": {
                "n": 66,
                "reasons": [{"code": c, "label": criterion[c], "n": n} for c, n in ineligible.items()],
            },
            "incomplete": 6,
            "eligible": 436,
            "not_enrolled": {
                "n": 48,
                "reasons": [
                    {
                        "code": "declined_consent",
                        "label": _label("declined consent", "拒绝签署知情同意"),
                        "n": 30,
                    },
                    {
                        "code": "not_treated",
                        "label": _label("not treated with PVP/PKP", "未行 PVP/PKP 治疗"),
                        "n": 9,
                    },
                    {
                        "code": "unable_to_follow_up",
                        "label": _label("unable to attend follow-up", "无法按时随访"),
                        "n": 5,
                    },
                    {"code": "awaiting", "n": 4},
                ],
            },
            "enrolled": 388,
            "left": {
                "n": 21,
                "reasons": [
                    {"code": "withdrawn", "n": 8},
                    {"code": "lost", "n": 9},
                    {"code": "died", "n": 4},
                ],
            },
            "in_follow_up": 152,
            "completed": 215,
            "not_analysed": 6,
            "analysed": 209,
        },
        "baseline": {
            "n": 388,
            "rows": [
                {
                    "key": "age",
                    "label": _label("Age", "年龄"),
                    "unit": "years",
                    "kind": "continuous",
                    "n": 388,
                    "missing": 0,
                    "summary": "mean_sd",
                    "mean": 71.6234,
                    "sd": 8.2871,
                    "median": 72.0,
                    "q1": 66.0,
                    "q3": 77.0,
                },
                {
                    "key": "sex",
                    "label": _label("Sex", "性别"),
                    "kind": "categorical",
                    "n": 388,
                    "missing": 0,
                    "levels": [
                        {
                            "code": "female",
                            "label": _label("female", "女"),
                            "n": 301,
                            "percent": 77.57731958762886,
                        },
                        {
                            "code": "male",
                            "label": _label("male", "男"),
                            "n": 87,
                            "percent": 22.422680412371133,
                        },
                    ],
                },
                {
                    "key": "bmi",
                    "label": _label("BMI", "体重指数"),
                    "unit": "kg/m²",
                    "kind": "continuous",
                    "n": 381,
                    "missing": 7,
                    "summary": "mean_sd",
                    "mean": 22.91,
                    "sd": 3.44,
                    "median": 22.8,
                    "q1": 20.6,
                    "q3": 25.1,
                },
                {
                    "key": "t_score_min",
                    "label": _label("Lowest T-score", "最低 T 值"),
                    "unit": "",
                    "kind": "continuous",
                    "n": 350,
                    "missing": 38,
                    "summary": "mean_sd",
                    "mean": -3.12,
                    "sd": 0.81,
                    "median": -3.1,
                    "q1": -3.6,
                    "q3": -2.6,
                },
                {
                    "key": "fractured_levels",
                    "label": _label("Fractured levels", "骨折椎体数"),
                    "kind": "categorical",
                    "n": 388,
                    "missing": 0,
                    "levels": [
                        {"code": "1", "label": _label("1", "1"), "n": 248, "percent": 63.91752577319588},
                        {"code": "2", "label": _label("2", "2"), "n": 104, "percent": 26.804123711340207},
                        {"code": "3", "label": _label("3", "3"), "n": 36, "percent": 9.278350515463918},
                    ],
                },
                {
                    "key": "procedure",
                    "label": _label("Procedure", "手术方式"),
                    "kind": "categorical",
                    "n": 372,
                    "missing": 16,
                    "levels": [
                        {
                            "code": "pvp",
                            "label": _label("PVP", "PVP"),
                            "n": 144,
                            "percent": 38.70967741935484,
                        },
                        {
                            "code": "pkp",
                            "label": _label("PKP", "PKP"),
                            "n": 228,
                            "percent": 61.29032258064516,
                        },
                    ],
                },
                {
                    "key": "cement_volume",
                    "label": _label("Cement volume", "骨水泥用量"),
                    "unit": "mL",
                    "kind": "continuous",
                    "n": 372,
                    "missing": 16,
                    "summary": "median_iqr",
                    "mean": 5.6,
                    "sd": 2.4,
                    "median": 5.0,
                    "q1": 4.0,
                    "q3": 6.5,
                },
                {
                    "key": "leakage",
                    "label": _label("Cement leakage", "骨水泥渗漏"),
                    "kind": "categorical",
                    "n": 372,
                    "missing": 16,
                    "levels": [
                        {"code": "yes", "label": _label("yes", "是"), "n": 62, "percent": 16.666666666666668},
                        {"code": "no", "label": _label("no", "否"), "n": 310, "percent": 83.33333333333333},
                    ],
                },
                {
                    "key": "pdff",
                    "label": _label("PDFF", "PDFF"),
                    "unit": "%",
                    "kind": "continuous",
                    "n": 201,
                    "missing": 187,
                    "summary": "median_iqr",
                    "mean": 53.0,
                    "sd": 12.0,
                    "median": 52.34,
                    "q1": 44.12,
                    "q3": 60.81,
                },
                {
                    "key": "r2star",
                    "label": _label("R2*", "R2*"),
                    "unit": "1/s",
                    "kind": "continuous",
                    "n": 201,
                    "missing": 187,
                    "summary": "mean_sd",
                    "mean": 48.73,
                    "sd": 11.18,
                    "median": 47.9,
                    "q1": 41.0,
                    "q3": 55.2,
                },
            ],
        },
        "quality": {"sites": [site_07, site_11], "total": _sum(site_07, site_11)},
        "primary": {
            "treated": 372,
            "pending": 6,
            "proportion": {"events": 14, "n": 209, "p": p, "lo": lo, "hi": hi},
            "curves": _curves(),
            "censoring": {"died": 4, "withdrawn": 8, "lost": 9, "in_follow_up": 137, "end_of_follow_up": 200},
            "location": {"adjacent": 9, "remote": 5},
            "agreement": {
                "pairs": 118,
                "kappa": 0.72341,
                "lo": 0.60118,
                "hi": 0.84564,
                "observed": 0.88136,
                "genant_pairs": 96,
                "genant_kappa": 0.64213,
            },
            "rate": {
                "events": 14,
                "n": 372,
                "percent": 100 * 14 / 372,
                "median_follow_up_days": 205.0,
                "q1_days": 120.5,
                "q3_days": 301.0,
            },
        },
        "secondary": {
            "instruments": [
                _instrument(
                    "odi",
                    _label("Oswestry Disability Index", "Oswestry 功能障碍指数"),
                    "%",
                    10.0,
                    [
                        (*BL, 380, 58.42, 14.2),
                        (*M3, 290, 30.11, 15.1),
                        (*M6, 250, 24.3, 14.0),
                        (*M12, 205, 20.24, 13.2),
                    ],
                    (201, -38.12, -40.23, -36.01),
                    178,
                    170,
                ),
                _instrument(
                    "vas",
                    _label("Back pain, visual analogue scale", "腰背痛视觉模拟评分"),
                    "mm",
                    15.0,
                    [
                        (*BL, 384, 72.1, 13.0),
                        (*M1, 330, 31.4, 16.2),
                        (*M3, 292, 25.6, 15.8),
                        (*M6, 251, 21.9, 15.0),
                        (*M12, 206, 19.7, 14.6),
                    ],
                    (203, -52.3, -54.6, -50.0),
                    189,
                    192,
                ),
            ]
        },
        "methods": {"accrual": "poisson_gamma", "skew_threshold": 1.0, "confidence": 0.95},
    }


def figures_empty() -> dict:
    """The same study on the day it opened: one site, no screening, nothing to compute."""
    figures = copy.deepcopy(figures_sample())
    zero = _quality(None, None, (0,) * 5, (0,) * 4, (0,) * 3, (0,) * 2, (0,) * 3)
    figures["cut"] = {
        **figures["cut"],
        "at": "2023-12-02T02:00:00+00:00",
        "date": "2023-12-02",
        "generated_by": "scheduled",
        "generated_at": "2023-12-02T02:00:04+00:00",
    }
    figures["enrollment"] = {
        "sites": [
            {"code": "07", "name": SITE_07, "screened": 0, "eligible": 0, "enrolled": 0, "target": None}
        ],
        "total": {"screened": 0, "eligible": 0, "enrolled": 0, "target": 560},
        "monthly": [{"month": "2023-12", "enrolled": 0, "cumulative": 0}],
        "projection": None,
    }
    figures["flow"] = {
        "screened": 0,
        "ineligible": {"n": 0, "reasons": []},
        "incomplete": 0,
        "eligible": 0,
        "not_enrolled": {"n": 0, "reasons": []},
        "enrolled": 0,
        "left": {"n": 0, "reasons": []},
        "in_follow_up": 0,
        "completed": 0,
        "not_analysed": 0,
        "analysed": 0,
    }
    figures["baseline"] = {
        "n": 0,
        "rows": [
            {
                **row,
                "n": 0,
                "missing": 0,
                **(
                    {"mean": None, "sd": None, "median": None, "q1": None, "q3": None}
                    if row["kind"] == "continuous"
                    else {"levels": [{**lv, "n": 0, "percent": None} for lv in row["levels"]]}
                ),
            }
            for row in figures["baseline"]["rows"]
        ],
    }
    figures["quality"] = {"sites": [{"code": "07", "name": SITE_07, **copy.deepcopy(zero)}], "total": zero}
    figures["primary"] = {
        "treated": 0,
        "pending": 0,
        "proportion": None,
        "curves": None,
        "censoring": {"died": 0, "withdrawn": 0, "lost": 0, "in_follow_up": 0, "end_of_follow_up": 0},
        "location": {"adjacent": 0, "remote": 0},
        "agreement": {
            "pairs": 0,
            "kappa": None,
            "lo": None,
            "hi": None,
            "observed": None,
            "genant_pairs": 0,
            "genant_kappa": None,
        },
        "rate": None,
    }
    for instrument in figures["secondary"]["instruments"]:
        instrument["visits"] = [
            {**v, "n": 0, "mean": None, "sd": None, "lo": None, "hi": None} for v in instrument["visits"]
        ]
        instrument["change"] = {**instrument["change"], "n": 0, "mean": None, "lo": None, "hi": None}
        empty = {"n": 0, "met": 0, "percent": None, "lo": None, "hi": None}
        instrument["mcid"], instrument["mcid_relative"] = dict(empty), dict(empty)
    return figures
