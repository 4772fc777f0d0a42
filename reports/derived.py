"""Values derived from the CRF data, one rule each, shared by the interim report's dataset and the analysis
export (so that both give the same BMI, lowest T-score, cement volume and PDFF/R2* means)."""


def number(value) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def lowest(values: dict, keys) -> float | None:
    found = [n for n in (number(values.get(key)) for key in keys) if n is not None]
    return min(found) if found else None


def procedure_summary(levels) -> dict:
    """Cement volume summed over the treated levels (None if any level's is missing) and any leakage."""
    if not isinstance(levels, list) or not levels:
        return {"cement_volume": None, "leakage": None}
    volumes = [number(row.get("cement_volume")) for row in levels if isinstance(row, dict)]
    leaks = [row.get("leakage") for row in levels if isinstance(row, dict)]
    return {
        "cement_volume": None if not volumes or None in volumes else round(sum(volumes), 3),
        "leakage": True if True in leaks else (None if None in leaks else False),
    }


def qmri_means(vertebrae) -> dict:
    """PDFF and R2* as the mean over the measured vertebrae that are neither fractured nor cemented."""
    out = {}
    for key in ("pdff", "r2star"):
        measured = [
            number(row.get(key))
            for row in vertebrae or []
            if isinstance(row, dict) and not row.get("fractured") and not row.get("cemented")
        ]
        measured = [value for value in measured if value is not None]
        out[key] = sum(measured) / len(measured) if measured else None
    return out
