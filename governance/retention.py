"""Retention: what is past its term goes, zone by zone, and every removal is logged; nothing that has not landed goes.

The terms are a register (governance/retention.yaml, which says why each term) plus each purpose's `retention_days`
(governance/purposes.yaml). One function per zone:

- `apply_raw_retention`: raw deliveries (plaintext identifiers) once landed and past their source's term; the
  deliveries as dropped in `incoming/` follow the same terms (`apply_incoming_retention`).
- `apply_landing_retention`: a snapshot source's superseded deliveries past their term; the latest delivery of a
  source is never removed, and event sources keep every delivery (staging reads all of them).
- `apply_published_retention`: a purpose's dataset not refreshed within the purpose's term, and leftovers of an
  interrupted publication.

`apply_retention` runs them all (the daily asset `governance/retention`). Every removal is one audit record (action
`retention`, zone, what, age, term, reason): paths of deliveries and datasets only, never a value from them.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from connectors.delivery import delivery_folders, source_folders
from governance.purposes import load as load_purposes
from pseudonymisation.audit import AuditLog

REGISTER = Path(__file__).with_name("retention.yaml")
DEFAULT_DAYS = 30
DAY = 86400.0


@dataclass(frozen=True)
class Removal:
    path: str
    age_days: float
    zone: str = "raw"
    term_days: float | None = None
    reason: str = ""


@dataclass
class RetentionReport:
    """What one retention run removed, per zone, and the terms it applied."""

    removals: list[Removal] = field(default_factory=list)
    terms: dict[str, Any] = field(default_factory=dict)

    def by_zone(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in self.removals:
            out.setdefault(r.zone, []).append(r.path)
        return out


@cache
def load_terms(path: Path = REGISTER) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def raw_retention_days() -> int:
    """The raw zone's default term: `RGW_RAW_RETENTION_DAYS`, else the register's `raw.default_days`."""
    default = load_terms()["raw"].get("default_days", DEFAULT_DAYS)
    return int(os.environ.get("RGW_RAW_RETENTION_DAYS", default))


def raw_term(source: str) -> int:
    return int(load_terms()["raw"].get("terms", {}).get(source, raw_retention_days()))


def landing_term(source: str) -> int | None:
    """Days a superseded landing delivery is kept; None for an event source without a term (kept)."""
    landing = load_terms()["landing"]
    if source in landing.get("terms", {}):
        return int(landing["terms"][source])
    if source in landing.get("event_sources", []):
        return None
    return int(landing.get("superseded_default_days", 90))


def _mtime(*candidates: Path) -> float:
    for c in candidates:
        if c.exists():
            return c.stat().st_mtime
    return time.time()


def _landed_at(landing: Path, source: str, delivery: str) -> float | None:
    """When a delivery landed (its landing report's time); 0 when landed at an unknown time; None when not landed."""
    folder = landing / source / delivery
    if not folder.exists():
        return None
    report = folder / "_landing.json"
    return report.stat().st_mtime if report.exists() else 0.0


def _remove(path: Path, zone: str, label: str, age: float, term: float, reason: str, audit: AuditLog) -> Removal:
    """Log first, then remove: a removal without its record must not happen (a record of a failed removal shows
    up again on the next run, which is visible)."""
    removal = Removal(label, round(age, 1), zone, term, reason)
    audit.append(
        {
            "action": "retention",
            "zone": zone,
            "removed": label,
            "age_days": removal.age_days,
            "term_days": term,
            "reason": reason,
        }
    )
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    return removal


def apply_raw_retention(
    raw: Path, landing: Path, audit: AuditLog, days: int | None = None, now: float | None = None
) -> list[Removal]:
    """Remove landed raw deliveries past their source's term (`days` overrides every term); logs each removal.

    The age counts from the later of ingest (the delivery's manifest) and landing. The latest raw delivery of a
    source in `raw.keep_latest` is kept whatever its age.
    """
    now = now or time.time()
    keep_latest = set(load_terms()["raw"].get("keep_latest", []))
    removed: list[Removal] = []
    for source_dir in source_folders(raw):
        folders = delivery_folders(raw, source_dir.name)
        source = source_dir.name
        term = days if days is not None else raw_term(source)
        for folder in folders:
            if source in keep_latest and folder == folders[-1]:
                continue
            landed = _landed_at(landing, source, folder.name)
            if landed is None:
                continue  # not landed: the raw delivery is the only copy
            age = (now - max(_mtime(folder / "_manifest.json", folder), landed)) / DAY
            if age < term:
                continue
            removed.append(
                _remove(
                    folder,
                    "raw",
                    f"raw/{source}/{folder.name}",
                    age,
                    term,
                    "landed, and past the raw zone's retention term",
                    audit,
                )
            )
    return removed


def apply_incoming_retention(incoming: Path, landing: Path, audit: AuditLog, now: float | None = None) -> list[Removal]:
    """Remove deliveries as dropped (folders, files or zips in `incoming/<source>/`) once landed and past the raw term.

    They hold the same plaintext as the raw zone; a delivery not landed (or not yet ingested) is never removed.
    """
    from connectors.incoming import discover_deliveries

    now = now or time.time()
    removed: list[Removal] = []
    for source_dir in source_folders(incoming):
        source = source_dir.name
        term = raw_term(source)
        for delivery in discover_deliveries(incoming, source):
            landed = _landed_at(landing, source, delivery.delivery_id)
            if landed is None:
                continue
            age = (now - max(delivery.newest_mtime, landed)) / DAY
            if age < term:
                continue
            removed.append(
                _remove(
                    delivery.path,
                    "incoming",
                    f"incoming/{source}/{delivery.path.name}",
                    age,
                    term,
                    "landed, and past its source's raw retention term",
                    audit,
                )
            )
    return removed


def _upstream_ids(raw: Path | None, incoming: Path | None, source: str) -> set[str]:
    """Delivery ids of a source still held in the raw zone or as dropped."""
    from connectors.incoming import discover_deliveries

    ids = {d.name for d in delivery_folders(raw, source)} if raw else set()
    if incoming is not None:
        ids |= {d.delivery_id for d in discover_deliveries(incoming, source)}
    return ids


def apply_landing_retention(
    landing: Path,
    audit: AuditLog,
    now: float | None = None,
    raw: Path | None = None,
    incoming: Path | None = None,
) -> list[Removal]:
    """Remove superseded deliveries of snapshot sources past their term; never a source's latest delivery.

    The latest delivery is the greatest delivery id, as in staging (`latest_delivery` in dbt_project/macros). With
    `raw`/`incoming`, a landed delivery whose raw or dropped copy is still there is kept: those copies are removed
    only once they have landed, so removing their landing first would keep them forever.
    """
    now = now or time.time()
    removed: list[Removal] = []
    for source_dir in source_folders(landing):
        source = source_dir.name
        if source == "linkage":
            continue
        term = landing_term(source)
        folders = delivery_folders(landing, source)
        if term is None or len(folders) < 2:
            continue
        upstream = _upstream_ids(raw, incoming, source)
        for folder in folders[:-1]:
            if folder.name in upstream:
                continue
            age = (now - _mtime(folder / "_landing.json", folder)) / DAY
            if age < term:
                continue
            removed.append(
                _remove(
                    folder,
                    "landing",
                    f"landing/{source}/{folder.name}",
                    age,
                    term,
                    f"superseded by delivery {folders[-1].name}, and past the landing zone's retention term",
                    audit,
                )
            )
    return removed


def apply_published_retention(published: Path, audit: AuditLog, now: float | None = None) -> list[Removal]:
    """Remove a purpose's dataset not refreshed within its purpose's `retention_days`, and stale leftovers.

    A leftover is a hidden file an interrupted publication left beside the dataset (`.<purpose>.<uuid>.duckdb`,
    `.enc`, `.wal`); it is removed after `published.leftover_hours`, so a publication in progress keeps its files.
    """
    now = now or time.time()
    leftover_days = float(load_terms().get("published", {}).get("leftover_hours", 24)) / 24
    removed: list[Removal] = []
    for purpose in load_purposes().purposes.values():
        folder = published / purpose.id
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            age = (now - path.stat().st_mtime) / DAY
            if path.name.startswith(".") and path.is_file() and age >= leftover_days:
                removed.append(
                    _remove(
                        path,
                        "published",
                        f"published/{purpose.id}/{path.name}",
                        age,
                        round(leftover_days, 3),
                        "left behind by an interrupted publication",
                        audit,
                    )
                )
        dataset = folder / f"{purpose.id}.duckdb.enc"
        if purpose.retention_days is None or not dataset.exists():
            continue
        age = (now - dataset.stat().st_mtime) / DAY
        if age >= purpose.retention_days:
            removed.append(
                _remove(
                    dataset,
                    "published",
                    f"published/{purpose.id}/{dataset.name}",
                    age,
                    purpose.retention_days,
                    f"not refreshed within its purpose's term ({purpose.retention})",
                    audit,
                )
            )
    return removed


def apply_retention(paths, audit: AuditLog, now: float | None = None) -> RetentionReport:
    """Every zone's retention, in the order that keeps the rule "nothing unlanded goes": raw and incoming first (they
    look at the landing zone), then landing, then published."""
    now = now or time.time()
    report = RetentionReport()
    report.removals += apply_raw_retention(paths.raw, paths.landing, audit, now=now)
    report.removals += apply_incoming_retention(paths.incoming, paths.landing, audit, now=now)
    report.removals += apply_landing_retention(paths.landing, audit, now=now, raw=paths.raw, incoming=paths.incoming)
    report.removals += apply_published_retention(paths.published, audit, now=now)
    terms = load_terms()
    report.terms = {
        "raw_default_days": raw_retention_days(),
        "raw_days": dict(terms["raw"].get("terms", {})),
        "raw_keep_latest": list(terms["raw"].get("keep_latest", [])),
        "landing_superseded_default_days": terms["landing"].get("superseded_default_days"),
        "landing_days": dict(terms["landing"].get("terms", {})),
        "landing_event_sources_kept": [
            s for s in terms["landing"].get("event_sources", []) if s not in terms["landing"].get("terms", {})
        ],
        "published_days": {p.id: p.retention_days for p in load_purposes().purposes.values()},
    }
    return report
