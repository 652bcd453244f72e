"""Ticket import from CSV or JSON Lines files, in the order an import runs.

- `read.py`: a file's records keyed by ticket field (CSV, JSON Lines, `--map` columns).
- `prepare.py`: each record validated like a ticket created in the app and filled in (title,
  labels by the classifier, triage signals); bad rows are reported by line and skipped.
- `write.py`: `import_records`, the rows stored in batches, one transaction each.
- `runs.py`: `import_file`, a file imported as a recorded run (duplicate imports refused,
  killed runs marked failed).
"""
