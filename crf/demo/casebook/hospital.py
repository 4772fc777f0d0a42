"""The hospital stay's forms: the procedure (levels, cement, leakage) and discharge."""

from trial.levels import LEVELS, level_index

from ..draws import gauss, weighted
from ..rates import (
    CEMENT_OVER_10_SHARE,
    EXTRAPEDICULAR_SHARE,
    LEAKAGE_SHARE,
    LONG_OPERATION_SHARE,
    LUMBAR_LOW,
    THORACIC_MID,
    TREATED_ELSEWHERE_SHARE,
    UNIPEDICULAR_SHARE,
    YEOM_LOCATIONS,
    YEOM_TYPES,
)
from .story import Story


class HospitalData(Story):
    """The procedure and discharge forms of a casebook."""

    def procedure_form(self) -> dict:
        rng, technique = self.rng, self.technique
        treated = list(self.acute)
        if len(treated) < 3 and rng.random() < TREATED_ELSEWHERE_SHARE:
            neighbours = [
                LEVELS[i]
                for i in (level_index(treated[0]) - 1, level_index(treated[-1]) + 1)
                if 0 <= i < len(LEVELS) and LEVELS[i] not in self.acute + self.chronic
            ]
            if neighbours:
                treated.append(rng.choice(neighbours))
        leaks = rng.random() < LEAKAGE_SHARE[technique]
        leaking = {rng.choice(treated)} if leaks else set()
        leaking |= {x for x in treated if leaks and rng.random() < 0.4}
        usual_approach = "unipedicular" if rng.random() < UNIPEDICULAR_SHARE else "bipedicular"
        levels = []
        for level in sorted(treated, key=level_index):
            approach = usual_approach if rng.random() < 0.9 else rng.choice(("unipedicular", "bipedicular"))
            if level in THORACIC_MID and rng.random() < EXTRAPEDICULAR_SHARE:
                approach = "extrapedicular"
            base = 2.6 if level in THORACIC_MID else 4.2 if level in LUMBAR_LOW else 3.5
            base += (1.2 if approach == "bipedicular" else 0) + (0.5 if technique == "PKP" else 0)
            volume = gauss(rng, base, 0.9, 1.5, 9.8)
            if rng.random() < CEMENT_OVER_10_SHARE:
                volume = rng.uniform(10.5, 13.0)
            row: dict = {"level": level, "approach": approach, "cement_volume": round(volume, 1)}
            if technique == "PKP":
                row["balloon"] = rng.random() < 0.98
            row["leakage"] = level in leaking
            if level in leaking:
                types = [t for t, share in YEOM_TYPES.items() if rng.random() < share] or ["S"]
                row["leakage_type"] = types
                row["leakage_location"] = sorted({rng.choice(YEOM_LOCATIONS[t]) for t in types})
                row["leakage_symptomatic"] = rng.random() < (
                    0.10 if "spinal_canal" in row["leakage_location"] else 0.01
                )
            levels.append(row)
        minutes = (23 if technique == "PVP" else 30) + 12 * (len(levels) - 1)
        minutes += 8 * any(r["approach"] == "bipedicular" for r in levels)
        minutes = round(gauss(rng, minutes, 10 if technique == "PVP" else 12, 10, 170))
        if rng.random() < LONG_OPERATION_SHARE:
            minutes = rng.randint(185, 240)
        complications = [
            code
            for code, share in (
                ("cardiopulmonary", 0.015),
                ("cement_embolism", 0.003),
                ("neuro_deficit", 0.002),
                ("bleeding", 0.003),
                ("other", 0.005),
            )
            if rng.random() < share
        ]
        data = {
            "procedure_date": self.procedure_day.isoformat(),
            "technique": technique,
            "anaesthesia": weighted(rng, {"local": 70, "local_sedation": 22, "general": 8}),
            "operator": rng.choice(self.site.surgeons),
            "guidance": weighted(rng, {"c_arm": 75, "biplane": 20, "ct": 5}),
            "cement_type": "pmma" if rng.random() < 0.97 else "calcium_phosphate",
            "operative_time": minutes,
            "intraop_complications": complications or ["none"],
            "levels": levels,
        }
        if "other" in complications:
            data["intraop_complications_other"] = rng.choice(("Vasovagal reaction", "Transient hypertension"))
        return data

    def discharge_form(self, vas_preop: int) -> dict:
        rng = self.rng
        complications = [
            code
            for code, share in (
                ("pneumonia", 0.02),
                ("urinary_infection", 0.015),
                ("delirium", 0.015),
                ("wound", 0.005),
                ("vte", 0.005),
                ("cardiovascular", 0.005),
                ("new_fracture", 0.003),
                ("cement_embolism", 0.001),
                ("neuro_deficit", 0.001),
                ("other", 0.005),
            )
            if rng.random() < share
        ]
        medication = {
            code
            for code, share in (
                ("calcium_vitamin_d", 0.85),
                ("active_vitamin_d", 0.40),
                ("bisphosphonate", 0.45),
                ("calcitonin", 0.20),
                ("denosumab", 0.08),
                ("teriparatide", 0.06),
                ("other", 0.02),
            )
            if rng.random() < share
        }
        if rng.random() < 0.05:
            medication = set()
        data = {
            "discharge_date": self.discharge_day.isoformat(),
            "vas_discharge": round(gauss(rng, 25, 12, 0, vas_preop)),
            "ambulation": weighted(
                rng, {"independent": 55, "walking_aid": 35, "assisted": 9, "bedridden": 1}
            ),
            "complications": complications or ["none"],
            "medication": sorted(medication) or ["none"],
            "destination": weighted(
                rng, {"home": 88, "rehabilitation": 7, "care_home": 3, "other_hospital": 2}
            ),
        }
        if "other" in complications:
            data["complications_other"] = rng.choice(("Urinary retention", "Constipation"))
        if "other" in medication:
            data["medication_other"] = "Xianling Gubao capsules (traditional Chinese medicine)"
        if rng.random() < 0.9:
            data["brace"] = rng.random() < 0.6
        return data
