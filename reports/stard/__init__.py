"""The STARD 2015 accuracy report of a diagnostic-accuracy study (issue 14), as a report job, a PDF and JSON.

- ``data``: the study's registered vertebrae, their index tests (the model outputs of the analysed imports)
  and their reference standard (final adjudication cases), read in a fixed number of queries.
- ``flow``: the STARD flow counts, each vertebra (or case) counted once under its first reason.
- ``figures``: every estimate, per model and centre, from the statistics of ``reports.accuracy`` (pure).
- ``report``: asking for the report (a job), building it, the job's runner.
- ``apis``: ``POST /api/v1/studies/{code}/accuracy-reports/``.

The PDF is drawn by ``reports.pdf.stard`` from the figures; the JSON is the figures themselves.
"""
