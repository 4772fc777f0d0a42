"""Why a statistic is None: stable codes in the results, and what each means.

The results carry the code (JSON-stable, language-free); the report shows ``REASONS[code]`` through its own
translation, so this package stays free of Django and of the reader's language.
"""

REASONS: dict[str, str] = {
    "zero_denominator": "The denominator is 0.",
    "no_acute_reference": "No vertebra is acute in the reference standard.",
    "no_chronic_reference": "No vertebra is chronic in the reference standard.",
    "no_vertebrae": "There is no vertebra.",
    "none_called_acute": "The model called no vertebra acute.",
    "none_called_chronic": "The model called no vertebra chronic.",
    "one_class_only": "The AUC needs both acute and chronic vertebrae.",
    "too_few_for_variance": "The DeLong variance needs at least two acute and two chronic vertebrae.",
    "zero_variance_difference": "The two AUCs differ but the difference has variance 0.",
    "undefined_in_every_resample": "The statistic was undefined in every bootstrap resample.",
    "no_values": "There is no value.",
    "one_value": "The SD needs at least two values.",
}
