"""The imaging forms' data: DXA, the fracture levels on the diagnostic MRI and quantitative MRI."""

from trial.levels import level_index

from ..draws import gauss, weighted
from ..rates import (
    ACUTE_GRADES,
    BMD_REFERENCE,
    CHRONIC_GRADES,
    GENANT_BANDS,
    GENANT_MISMATCH_SHARE,
    LUMBAR_DXA,
    PDFF_NORMS,
    PDFF_OSTEOPOROSIS,
    R2STAR,
    R2STAR_ARTEFACT_SHARE,
    ROI_NOTE,
    SCANNERS,
)
from .story import Story


class ImagingData(Story):
    """The DXA, fracture-level and quantitative MRI forms of a casebook."""

    def dxa_form(self) -> dict:
        rng, site = self.rng, self.site
        manufacturer = site.dxa if rng.random() < 0.95 else "other"
        data: dict = {"exam_date": self.dxa_day.isoformat(), "manufacturer": manufacturer}
        if manufacturer == "other":
            data["manufacturer_other"] = "Medilink"
        elif rng.random() < 0.8:
            data["model"] = site.dxa_model
        fractured = set(self.acute) | set(self.chronic)
        excluded = [x for x in LUMBAR_DXA if x in fractured]
        z = rng.gauss(0, 1)
        data["lumbar_evaluable"] = len(LUMBAR_DXA) - len(excluded) >= 2 and rng.random() < 0.97
        reference = BMD_REFERENCE.get(manufacturer, BMD_REFERENCE["hologic"])
        if data["lumbar_evaluable"]:
            if excluded:
                data["lumbar_excluded"] = excluded
            t = round(min(max(-3.0 + (0.3 if self.male else 0) + 0.8 * z, -6.5), 2.5), 1)  # BMD >= 0.2
            data["t_lumbar"] = t
            if rng.random() < 0.8:
                data["bmd_lumbar"] = round(reference["lumbar"][0] + t * reference["lumbar"][1], 3)
        data["hip_scanned"] = rng.random() < 0.97
        if data["hip_scanned"]:
            data["hip_side"] = "left" if rng.random() < 0.7 else "right"
            # Correlated with the spine (r ~0.6); bounded so that the BMD stays above the form's 0.2 g/cm2.
            neck = round(min(max(-2.6 + 0.7 * (0.6 * z + 0.8 * rng.gauss(0, 1)), -5.2), 2.0), 1)
            hip = round(min(max(neck + 0.3 + 0.3 * rng.gauss(0, 1), -5.5), 2.5), 1)
            data["t_femoral_neck"], data["t_total_hip"] = neck, hip
            if rng.random() < 0.8:
                data["bmd_femoral_neck"] = round(reference["neck"][0] + neck * reference["neck"][1], 3)
                data["bmd_total_hip"] = round(reference["hip"][0] + hip * reference["hip"][1], 3)
        return data

    def _fracture_row(self, level: str, acute: bool) -> dict:
        rng = self.rng
        grade = weighted(rng, ACUTE_GRADES if acute else CHRONIC_GRADES)
        band = grade
        if rng.random() < GENANT_MISMATCH_SHARE:  # graded by eye, measured otherwise: one band off
            band = rng.choice([g for g in GENANT_BANDS if abs(int(g) - int(grade)) == 1])
        low, high = GENANT_BANDS[band]
        row = {
            "level": level,
            "acuity": "acute" if acute else "chronic",
            "oedema": acute,
            "genant_grade": grade,
            "height_loss": round(rng.uniform(low, high), 1),
            "morphology": weighted(rng, {"wedge": 60, "biconcave": 25, "crush": 15}),
        }
        if acute:
            row["posterior_wall"] = rng.random() < 0.10
            row["cleft"] = rng.random() < (0.20 if grade == "3" else 0.06)
            row["cause"] = self.fall
            if self.fall == "other":
                row["cause_other"] = self._fall_other
        return row

    def fracture_levels(self) -> dict:
        rows = [self._fracture_row(x, True) for x in self.acute] + [
            self._fracture_row(x, False) for x in self.chronic
        ]
        return {
            "mri_date": self.mri_day.isoformat(),
            "fractures": sorted(rows, key=lambda r: level_index(r["level"])),
        }

    def qmri_form(self) -> dict:
        rng, site = self.rng, self.site
        field_strength = "3.0" if rng.random() < 0.85 else "1.5"
        sequence, _m3, _m15, software, version = SCANNERS[site.scanner]
        data = {
            "exam_date": self.qmri_day.isoformat(),
            "field_strength": field_strength,
            "manufacturer": site.scanner,
            "scanner_model": site.model_3t if field_strength == "3.0" else site.model_15t,
            "sequence": sequence,
            "reader": f"Reader {self.p.site}-{rng.randint(1, 2)}",
            "software": software,
            "software_version": version,
        }
        if rng.random() < 0.8:
            data["roi_notes"] = ROI_NOTE
        decade = min(max(self.p.age // 10, 5), 8)
        mean, sd = PDFF_NORMS[(self.p.sex, decade)]
        person_pdff = rng.gauss(mean + PDFF_OSTEOPOROSIS, sd)
        r2_mean, r2_sd, artefact = R2STAR[field_strength]
        person_r2 = gauss(rng, r2_mean, r2_sd, r2_mean * 0.5, r2_mean * 1.6)
        rows = []
        for level in site.roi_set:
            pdff = person_pdff + 1.0 * (level_index(level) - level_index("L1")) + rng.gauss(0, 2.5)
            r2 = person_r2 * rng.uniform(0.92, 1.08)
            if level in self.acute:  # oedema replaces marrow fat, and the trabeculae are broken
                pdff, r2 = pdff - rng.uniform(12, 25), r2 * 0.75
            elif level in self.chronic:
                pdff += 3
            if rng.random() < R2STAR_ARTEFACT_SHARE:
                r2 = rng.uniform(*artefact)
            rows.append(
                {
                    "level": level,
                    "pdff": round(min(max(pdff, 2.0), 95.0), 1),
                    "r2star": round(r2, 1),
                    "fractured": level in self.acute or level in self.chronic,
                    "cemented": False,  # a prior augmentation excludes from the study (EXC1)
                }
            )
        data["vertebrae"] = rows
        return data
