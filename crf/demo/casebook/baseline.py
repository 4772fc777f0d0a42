"""The baseline form's data: history, risk factors, treatment before the fracture and pre-operative pain."""

from ..draws import gauss, weighted
from ..rates import CHRONIC_LEVEL_SHARE, PRIOR_FRACTURE_SHARE
from .story import Story


class BaselineData(Story):
    """The baseline form of a casebook."""

    def baseline(self) -> dict:
        rng, male = self.rng, self.male
        height = gauss(rng, 165 if male else 153, 6.0, 138, 185)
        bmi = gauss(rng, 22.0, 3.5, 15.5, 34.0)
        data = {
            "onset_date": self.onset_day.isoformat(),
            "height": round(height, 1),
            "weight": round(bmi * (height / 100) ** 2, 1),
        }
        # Smoking ~12% overall, mostly men: about 45% of men and 3% of women have ever smoked.
        ever = rng.random() < (0.45 if male else 0.03)
        data["smoking"] = "never" if not ever else ("current" if rng.random() < 0.5 else "former")
        if data["smoking"] == "current":
            data["cigarettes_per_day"] = weighted(rng, {5: 15, 10: 35, 15: 15, 20: 30, 30: 5})
        regular, occasional = (0.10, 0.35) if male else (0.005, 0.08)
        draw = rng.random()
        data["alcohol"] = (
            "regular" if draw < regular else "occasional" if draw < regular + occasional else "none"
        )
        data["diabetes"] = rng.random() < 0.20
        if data["diabetes"]:
            data["diabetes_type"] = weighted(rng, {"type2": 96, "type1": 1, "other": 3})
        data["glucocorticoids"] = rng.random() < 0.05
        if data["glucocorticoids"]:
            data["gc_dose"] = weighted(rng, {2.5: 10, 5.0: 40, 7.5: 20, 10.0: 20, 20.0: 10})
            data["gc_duration"] = weighted(rng, {2: 5, 3: 10, 6: 25, 12: 25, 24: 15, 60: 15, 120: 5})
        sites = []
        if self.chronic:  # the old vertebral fracture on the MRI is a prior fragility fracture
            sites.append("vertebra")
        elif rng.random() < (PRIOR_FRACTURE_SHARE - CHRONIC_LEVEL_SHARE) / (1 - CHRONIC_LEVEL_SHARE):
            sites.append(weighted(rng, {"distal_radius": 45, "hip": 20, "proximal_humerus": 15, "other": 20}))
        if sites and rng.random() < 0.10:
            sites.append(weighted(rng, {"distal_radius": 45, "hip": 20, "proximal_humerus": 15, "other": 20}))
        data["prior_fracture"] = bool(sites)
        if sites:
            data["prior_fracture_sites"] = sorted(set(sites))
            if "other" in sites:
                data["prior_fracture_other"] = rng.choice(("Rib", "Pelvis", "Ankle"))
        parent = rng.random()
        if parent < 0.5:
            data["parent_hip_fracture"] = parent < 0.03
        # About a quarter were treated before the index fracture: most still on it, some had stopped.
        treated = rng.random() < 0.25
        current = treated and rng.random() < 0.65
        stopped = treated and (not current or rng.random() < 0.15)
        data["prior_treatment"] = self._treatment(stopped)
        data["current_treatment"] = self._treatment(current)
        for key in ("prior_treatment", "current_treatment"):
            if "other" in data[key]:
                data[f"{key}_other"] = "Xianling Gubao capsules (traditional Chinese medicine)"
        if self.fall == "low_energy_fall":  # the fall that caused the fracture counts
            falls = weighted(rng, {1: 65, 2: 22, 3: 9, 4: 2.5, 6: 1.3, 12: 0.2})
        else:
            falls = weighted(rng, {0: 70, 1: 20, 2: 8, 3: 2})
        data["falls_past_year"] = falls
        old = self.p.age >= 80
        data["outdoor_activity"] = rng.random() < (0.30 if old else 0.50)
        data["ambulation"] = weighted(
            rng,
            {"independent": 55, "walking_aid": 32, "assisted": 11, "bedridden": 2}
            if old
            else {"independent": 78, "walking_aid": 17, "assisted": 4, "bedridden": 1},
        )
        comorbidities = [
            code
            for code, share in (
                ("hypertension", 0.50),
                ("coronary", 0.15),
                ("cerebrovascular", 0.12),
                ("copd", 0.07 if male else 0.04),
                ("ckd", 0.05),
                ("rheumatoid_arthritis", 0.02),
                ("hyperthyroidism", 0.01),
                ("other", 0.06),
            )
            if rng.random() < share
        ]
        data["comorbidities"] = comorbidities or ["none"]
        if "other" in comorbidities:
            data["comorbidities_other"] = rng.choice(
                ("Parkinson's disease", "Knee osteoarthritis", "Atrial fibrillation", "Chronic gastritis")
            )
        data["vas_preop"] = round(gauss(rng, 87, 8, 50, 100))
        return data

    def _treatment(self, treated: bool) -> list[str]:
        if not treated:
            return ["none"]
        rng = self.rng
        chosen = {
            code
            for code, share in (
                ("calcium_vitamin_d", 0.75),
                ("bisphosphonate", 0.30),
                ("active_vitamin_d", 0.25),
                ("calcitonin", 0.06),
                ("denosumab", 0.04),
                ("teriparatide", 0.03),
                ("raloxifene", 0.02),
                ("other", 0.03),
            )
            if rng.random() < share
        }
        return sorted(chosen or {"calcium_vitamin_d"})
