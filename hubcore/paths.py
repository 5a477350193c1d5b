"""Where the hub keeps its files, taken from the environment so the CLI, Dagster and tests agree.

`RGW_DATA` (default `./data` beside the repository) holds every zone. The raw zone and the keys are restricted:
plaintext identifiers live only there. Nothing under `RGW_DATA` is tracked by git.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class HubPaths:
    """The zones of the hub under one data folder."""

    data: Path

    @classmethod
    def from_env(cls) -> HubPaths:
        return cls(Path(os.environ.get("RGW_DATA", REPO_ROOT / "data")).resolve())

    @property
    def incoming(self) -> Path:
        """Deliveries as the registries drop them: `incoming/<source>/<delivery_id>/`."""
        return self.data / "incoming"

    @property
    def raw(self) -> Path:
        """Restricted: connectors' output with plaintext identifiers, and the quarantine."""
        return self.data / "raw"

    @property
    def staging(self) -> Path:
        """Where connectors write before a delivery is landed in one rename (inside the raw zone)."""
        return self.raw / ".staging"

    @property
    def landing(self) -> Path:
        """Shared: pseudonymised Parquet only; the warehouse reads from here."""
        return self.data / "landing"

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse" / "rgw.duckdb"

    @property
    def published(self) -> Path:
        return self.data / "published"

    @property
    def keys(self) -> Path:
        """Restricted: the master key and key ring, mode 0600."""
        return self.data / "keys"

    @property
    def audit(self) -> Path:
        return self.data / "audit"

    @property
    def audit_log(self) -> Path:
        """The hash-chained audit log of re-identifications, queries and grant changes."""
        return self.audit / "audit.jsonl"

    @property
    def vault(self) -> Path:
        """Restricted: the encrypted map from linkage pseudonyms back to identifiers."""
        return self.data / "vault"

    @property
    def access(self) -> Path:
        """The access register (grants and acknowledgements)."""
        return self.data / "access"

    @property
    def linkage(self) -> Path:
        """Linkage results in the landing zone: address links, entities, buurt of each dwelling."""
        return self.landing / "linkage"

    @property
    def reports(self) -> Path:
        return self.data / "reports"

    @property
    def ground_truth(self) -> Path:
        """The synthetic generator's truth, for tests and benchmarks only; the pipeline never reads it."""
        return self.data / "ground_truth"

    @property
    def quality_cache(self) -> Path:
        """The ground truth's keys in keyed form (pseudonyms, never plaintext), kept for the linkage quality checks
        so a refresh does not key the whole truth again (linkage/truth_cache.py)."""
        return self.data / "cache" / "quality_truth"

    def delivery_dir(self, source: str, delivery_id: str) -> Path:
        return self.incoming / source / delivery_id

    def ensure(self) -> HubPaths:
        for p in (self.incoming, self.raw, self.landing, self.warehouse.parent, self.published, self.audit):
            p.mkdir(parents=True, exist_ok=True)
        self.keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self
