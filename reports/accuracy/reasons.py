"""Why a statistic is None: stable codes in the results, and what each means.

The results carry the code (JSON-stable, language-free); the report shows ``gettext(REASONS[code])`` in
the reader's language. The texts are only marked here for ``makemessages`` (which finds ``gettext_noop`` by
name), so the statistics need no settings, no active language and no request.
"""


def gettext_noop(message: str) -> str:
    """Marks a message for translation and returns it unchanged (Django's own reads the settings)."""
    return message


REASONS: dict[str, str] = {
    "zero_denominator": gettext_noop("The denominator is 0."),
    "no_acute_reference": gettext_noop("No vertebra is acute in the reference standard."),
    "no_chronic_reference": gettext_noop("No vertebra is chronic in the reference standard."),
    "no_vertebrae": gettext_noop("There is no vertebra."),
    "none_called_acute": gettext_noop("The model called no vertebra acute."),
    "none_called_chronic": gettext_noop("The model called no vertebra chronic."),
    "one_class_only": gettext_noop("The AUC needs both acute and chronic vertebrae."),
    "too_few_for_variance": gettext_noop(
        "The DeLong variance needs at least two acute and two chronic vertebrae."
    ),
    "zero_variance_difference": gettext_noop("The two AUCs differ but the difference has variance 0."),
    "undefined_in_every_resample": gettext_noop("The statistic was undefined in every bootstrap resample."),
    "no_values": gettext_noop("There is no value."),
    "one_value": gettext_noop("The SD needs at least two values."),
}
