"""The hub's neutral core: where its files live (paths.py) and where its dbt project and manifest are
(dbt_manifest.py). The bottom layer: it imports no other package of the hub, and every package may import it."""
