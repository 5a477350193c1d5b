"""Serving the published datasets from a PostgreSQL server: the cluster, publication into it, roles from the
registers, and the collection of the server's audit log into the hub's hash-chained log (docs/serving.md)."""
