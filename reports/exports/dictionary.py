"""The data dictionary of an export: one row per column of each table it holds (name, labels in both
languages, type, unit, choices in both languages, and the numbers .dta and .sav code the choices with)."""

from django.utils.translation import gettext_lazy as _

from .labels import both
from .table import Column, ColumnType, Table

COLUMNS = (
    ("table", _("Table")),
    ("name", _("Variable")),
    ("name_dta", _("Name in .dta (Stata allows 32 characters)")),
    ("label_en", _("Label (English)")),
    ("label_zh_hans", _("Label (Chinese)")),
    ("type", _("Type")),
    ("unit", _("Unit")),
    ("choices", _("Choices (code, English label)")),
    ("choices_zh_hans", _("Choices (code, Chinese label)")),
    ("numeric_codes", _("Numbers in .dta and .sav")),
    ("free_text", _("Free text (left out when de-identified)")),
)


def _choices(column: Column, language: str) -> str:
    return " | ".join(
        f"{code}, {label.get(language) or label.get('en', '')}" for code, label in column.choices
    )


def _numbers(column: Column) -> str:
    from .writers import choice_numbers

    if column.type == ColumnType.BOOLEAN:
        return "1 = yes | 0 = no"
    if column.type == ColumnType.CHOICE:
        return " | ".join(f"{number} = {code}" for code, number in choice_numbers(column).items())
    return ""


def dictionary_rows(tables) -> list[tuple]:
    from .writers import dta_names

    return [
        (
            table.name,
            column.name,
            names[column.name],
            column.label.get("en", ""),
            column.label.get("zh-hans", ""),
            column.type,
            column.unit,
            _choices(column, "en"),
            _choices(column, "zh-hans"),
            _numbers(column),
            column.free_text,
        )
        for table in tables
        for names in (dta_names(table.columns),)
        for column in table.columns
    ]


def dictionary_table(tables) -> Table:
    columns = tuple(
        Column(name, both(label), ColumnType.BOOLEAN if name == "free_text" else ColumnType.STRING)
        for name, label in COLUMNS
    )
    return Table("dictionary", columns, dictionary_rows(tables), both(_("Data dictionary")))
