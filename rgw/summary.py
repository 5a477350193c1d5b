"""The demo's closing summary: what landed, what was quarantined and why, where the results are, how to look."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from rgw.settings import HubPaths


def _quarantine_reasons(delivery_dir: Path) -> Counter[str]:
    reasons: Counter[str] = Counter()
    for q in delivery_dir.glob("*.quarantine.parquet"):
        if pq.ParquetFile(q).metadata.num_rows:
            reasons.update(pq.read_table(q, columns=["reason_code"]).column("reason_code").to_pylist())
    return reasons


def _borderline(per: dict) -> list[str]:
    """How the borderline cases fared: 'n/m gesignaleerd' per indicator and side, summed over the indicators."""
    sums = {"boven": [0, 0], "onder": [0, 0]}
    for v in per.values():
        for side, total in sums.items():
            fired, _, cases = str(v.get(f"grens_{side}", "0/0")).partition(" ")[0].partition("/")
            total[0] += int(fired or 0)
            total[1] += int(cases or 0)
    if not sums["boven"][1] and not sums["onder"][1]:
        return []
    (over, n_over), (under, n_under) = sums["boven"], sums["onder"]
    return [f"  borderline cases: {over}/{n_over} just over a threshold signalled, {under}/{n_under} just under"]


def render_checks(checks: list) -> list[str]:
    """The asset checks of a run: how many passed, each that failed, and the quality figures a reader looks for."""
    if not checks:
        return []
    failed = [c for c in checks if not c.passed]
    lines = ["", f"asset checks: {len(checks) - len(failed)} passed, {len(failed)} failed"]
    lines += [f"  FAILED {c.asset} {c.check}" for c in failed]
    for c in checks:
        if c.check == "entity_quality_vs_ground_truth":
            figures = ", ".join(f"{k} F1 {v['f1']}" for k, v in c.metadata.items() if isinstance(v, dict) and "f1" in v)
            lines.append(f"  linkage, against the synthetic truth: {figures}")
        elif c.check == "address_quality_vs_ground_truth":
            per = c.metadata.get("per_source", {})
            worst = min(per, key=lambda k: per[k]["precision"], default=None)
            most = max(per, key=lambda k: per[k]["unresolved_share"], default=None)
            lines.append(
                f"  addresses: lowest precision {per[worst]['precision'] if worst else None} ({worst}), "
                f"highest unresolved share {per[most]['unresolved_share'] if most else None} ({most})"
                if per
                else "  addresses: lowest precision None, highest unresolved share None"
            )
        elif c.check == "indicator_recall_and_precision":
            per = c.metadata.get("per_indicator", {})
            recall = min((v["recall"] for v in per.values() if v["recall"] is not None), default=None)
            precision = min((v["precision"] for v in per.values() if v["precision"] is not None), default=None)
            lines.append(f"  indicators: lowest recall {recall}, lowest precision {precision} (planted and borderline)")
            lines += _borderline(per)
        elif c.check == "no_privacy_findings":
            lines.append(f"  privacy report: {len(c.metadata.get('findings', []))} finding(s)")
    return lines


def render_summary(
    paths: HubPaths, failed: list[tuple[str, str, str]] | None = None, checks: list | None = None
) -> str:
    lines = ["", "Rotterdams Goed Wonen hub: what landed", ""]
    lines.append(f"{'source':<12} {'delivery':<24} {'entity':<26} {'in':>9} {'clean':>9} {'quarantined':>11}")
    total_in = total_q = 0
    reasons: Counter[str] = Counter()
    for manifest_path in sorted(paths.raw.glob("*/*/_manifest.json")):
        m = json.loads(manifest_path.read_text())
        for entity, c in m["counts"].items():
            lines.append(
                f"{m['source']:<12} {m['delivery_id']:<24} {entity:<26} {c['in']:>9,} {c['clean']:>9,} "
                f"{c['quarantined']:>11,}"
            )
            total_in += c["in"]
            total_q += c["quarantined"]
        for reason, n in _quarantine_reasons(manifest_path.parent).items():
            reasons[f"{m['source']}: {reason}"] += n
        for d in m.get("drift", []):
            lines.append(f"{'':<12} schema drift: {d['kind']} column {d['column']} {d.get('detail', '')}")
    lines.append("")
    lines.append(f"records in: {total_in:,}; quarantined: {total_q:,}; every record accounted for.")
    if reasons:
        lines.append("quarantine reasons: " + ", ".join(f"{k} ({v})" for k, v in reasons.most_common()))
    lines += render_checks(checks or [])
    if failed:
        lines.append("")
        lines.append("FAILED:")
        lines.extend(f"  {s} {d}: {msg}" for s, d, msg in failed)
    lines += [
        "",
        "where the results are:",
        f"  raw zone (restricted, plaintext + quarantine): {paths.raw}",
        f"  landing zone (pseudonymised, shared):          {paths.landing}",
        f"  warehouse (DuckDB, built by dbt):              {paths.warehouse}",
        f"  published datasets per purpose:                {paths.published}",
        f"  ingest overview:                               {paths.data / 'reports' / 'ingest_overview.parquet'}",
        f"  programme report (HTML, data.json, PDF):       {paths.data / 'reports'}/programme_<year>/",
        "",
        "open the Dagster UI on the same instance: make ui   (then http://127.0.0.1:3000)",
    ]
    return "\n".join(lines)
