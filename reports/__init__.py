"""The programme's own reports (docs/reports.md): one module per job: figures, suppression, charts, map, page, PDF."""
