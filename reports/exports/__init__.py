"""Exports of a study's data for analysis (CSV, XLSX, Stata, SPSS) and exchange (REDCap, CDISC ODM 1.3.2).

- `table.py`: what every writer reads, a Table (typed, labelled columns and a stream of rows).
- `deid.py`: the de-identification options (hashed study IDs, shifted dates, free text removed).
- `analysis.py`, `long.py`: the datasets; `dictionary.py`: their data dictionary.
- `writers.py`: CSV, XLSX, .dta, .sav; `redcap.py`: the REDCap import file; `odm/`: CDISC ODM 1.3.2.
- `run.py`: an export built and zipped with its manifest (the job runner and `manage.py export`).
See README.md here.
"""
