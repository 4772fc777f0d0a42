"""Exports of a study's data for analysis (CSV, XLSX, Stata, SPSS) and exchange (REDCap, CDISC ODM 1.3.2).

- `table.py`: what every writer reads, a Table (typed, labelled columns and a stream of rows).
- `deid.py`: the de-identification options (hashed study IDs, shifted dates, free text removed).
"""
