"""What an export job may be asked for: its format, dataset and options. The job's params (reports.Job.params)
hold exactly these keys; services.export_request validates them and reports/exports/run.py reads them.

params = {
    "format": one of FORMATS,
    "dataset": "analysis" | "long" (for the tabular formats; REDCap and ODM are their own layout),
    "deidentify": bool,
    "bom": bool (CSV and REDCap: a UTF-8 byte-order mark, for Excel),
    "language": "en" | "zh-hans" (labels in CSV with labels, XLSX, .dta and .sav, and the manifest),
    "salt": 32 hex digits, only when deidentify (kept with the job, never shown by the API or the pages),
}
"""

from django.utils.translation import gettext_lazy as _

CSV, CSV_LABELS, XLSX, DTA, SAV, REDCAP, ODM = "csv", "csv-labels", "xlsx", "dta", "sav", "redcap", "odm"
FORMATS = {
    CSV: _("CSV, raw codes"),
    CSV_LABELS: _("CSV, labels"),
    XLSX: _("Excel (XLSX)"),
    DTA: _("Stata (.dta)"),
    SAV: _("SPSS (.sav)"),
    REDCAP: _("REDCap import (CSV)"),
    ODM: _("CDISC ODM 1.3.2 (XML)"),
}
TABULAR = (CSV, CSV_LABELS, XLSX, DTA, SAV)  # the formats that take a dataset
BOM_FORMATS = (CSV, CSV_LABELS, REDCAP)

ANALYSIS, LONG = "analysis", "long"
DATASETS = {
    ANALYSIS: _("Analysis dataset: one row per participant, derived variables included"),
    LONG: _("Long tables: one per form and repeating group, visits, questionnaires, verdicts"),
}
