"""The privacy officer's report: purposes with their legal basis, columns, lineage, grants and accesses; the register
of processing activities (AVG art. 30); the indicator register; and the findings that need attention. Written as a
static HTML site and as JSON with the same content, from the registers, dbt's manifest, the boundary's record of what
it did to each column, the access register and the audit log.

Column lineage, per published column: the raw source fields it comes from and the kind of every step on the way
(copied, pseudonymised, encoded, generalised, linked, aggregated, derived), and the fields that decide which rows
it has (joined, filtered, grouped: OpenLineage's INDIRECT), through the boundary, the linkage and the dbt models
(governance/column_lineage.py); its `sources` (the registries its value is made from) come from that lineage, never
from a hand-typed list; the same graph is written beside the site as OpenLineage events
(`openlineage.jsonl`, validated before it is written). The boundary page shows what the latest landing of each
source did to each raw field (recorded by every landing in `_landing.json`).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from governance import openlineage
from governance.column_lineage import ColumnLineage, Field, for_manifest, protected_inputs
from governance.grants import GrantRegister
from governance.lineage import protected_traits_in_lineage
from governance.publish import column_tags
from governance.purposes import Register, load
from hubcore.dbt_manifest import DBT_PROJECT_DIR, ensure_manifest
from pseudonymisation.audit import AuditLog

INDICATORS = Path(__file__).with_name("indicators.yaml")
STEP_KIND = {
    "keep": "copied",
    "pseudonymise": "pseudonymised",
    "encode": "encoded",
    "generalise": "generalised",
    "drop": "dropped",
    "keep_legal_person": "copied",  # legal persons' names and KvK numbers only (pseudonymisation/policy.py)
}


@dataclass
class Finding:
    kind: str
    detail: str


@dataclass
class ReportData:
    generated: str
    purposes: list[dict[str, Any]] = field(default_factory=list)
    processing_register: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    boundary: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)
    lineage: ColumnLineage | None = field(default=None, repr=False)
    openlineage_events: list[dict[str, Any]] = field(default_factory=list, repr=False)


def describe_origin(graph: ColumnLineage, f: Field) -> dict[str, Any]:
    """A column's lineage for a reader: each raw field it is made from and each that decides its rows, with the kinds
    of step on the way, the registries its value comes from, and the datasets passed."""
    origin = graph.origin(f)

    def listed(fields: dict[Field, set[str]]) -> list[str]:
        return [
            f"{raw.dataset.removeprefix('raw/')}.{raw.name} ({', '.join(k for k in KIND_ORDER if k in kinds)})"
            for raw, kinds in sorted(fields.items())
        ]

    return {
        "source_fields": listed(origin.raw_fields),
        "decided_by": listed(origin.indirect_fields),
        "sources": origin.sources(),
        "through": sorted(d for d in origin.through if not d.startswith("raw/")),
        "constant": origin.constant,
        "raw_fields": sorted(origin.raw_fields),
    }


KIND_ORDER = ("copied", "pseudonymised", "encoded", "generalised", "linked", "aggregated", "derived", "joined",
              "filtered", "grouped")  # fmt: skip


def boundary_steps(landing: Path) -> list[dict[str, Any]]:
    """What the latest landing of each source did to each raw field."""
    steps = {}
    for report in sorted(landing.glob("*/*/_landing.json")):
        data = json.loads(report.read_text())
        for s in data["steps"]:
            steps[(s["source"], s["entity"], s["column"], s["action"], s.get("argument"))] = {
                "source": s["source"],
                "entity": s["entity"],
                "field": s["column"],
                "step": STEP_KIND[s["action"]] + (f" ({s['argument']})" if s.get("argument") else ""),
                "landing_column": s["output"],
            }
    return list(steps.values())


def collect(
    register: Register,
    manifest: dict[str, Any],
    grants: GrantRegister,
    audit: AuditLog,
    landing: Path,
    since: date | None = None,
    identifier_findings: list[str] | None = None,
) -> ReportData:
    now = datetime.now(UTC)
    since = since or (now.date() - timedelta(days=365))
    data = ReportData(generated=now.isoformat(timespec="seconds"))
    tags = column_tags(manifest)
    graph = data.lineage = for_manifest(manifest)
    all_grants = grants.all()
    records = audit.records()
    verify = audit.verify()
    data.audit = {
        "records": verify.records,
        "intact": verify.ok,
        "first_broken": verify.first_broken_seq,
        "reason": verify.reason,
        "head": dict(zip(("seq", "hash"), audit.head(), strict=True)),
    }
    if not verify.ok:
        data.findings.append(Finding("audit chain broken", f"record {verify.first_broken_seq}: {verify.reason}"))
    for purpose in register.purposes.values():
        columns = []
        for table in purpose.tables:
            model_columns = manifest["nodes"].get(f"model.rgw.{table}", {}).get("columns", {})
            for col in model_columns:
                meta = tags.get(table, {}).get(col)
                if meta is None:
                    data.findings.append(Finding("untagged column", f"{table}.{col} (purpose {purpose.id})"))
                    continue
                if purpose.id not in meta.get("purposes", []):
                    continue
                if meta.get("privacy_class") not in purpose.privacy_classes:
                    data.findings.append(
                        Finding("class not allowed", f"{table}.{col} is {meta.get('privacy_class')} under {purpose.id}")
                    )
                origin = describe_origin(graph, Field(f"published/{purpose.id}/{table}", col))
                if not origin["raw_fields"] and not origin["constant"]:
                    data.findings.append(
                        Finding("published column without lineage", f"{table}.{col} (purpose {purpose.id})")
                    )
                columns.append(
                    {
                        "table": table,
                        "column": col,
                        "class": meta.get("privacy_class"),
                        "sources": origin["sources"],
                        "source_fields": origin["source_fields"]
                        or (["(a constant in the model's SQL)"] if origin["constant"] else []),
                        "decided_by": origin["decided_by"],
                        "through": origin["through"],
                    }
                )
        used = {  # when each user last read under the purpose: the audit log says it (checks never write)
            r["event"].get("user"): r["time"]
            for r in records
            if r["event"].get("purpose") == purpose.id and r["event"].get("outcome") in ("answered", "granted")
        }
        holders = [
            {
                "user": g.user,
                "until": g.until,
                "state": "revoked" if g.revoked_at else ("valid" if g.valid_on(now.date()) else "expired"),
                "acknowledged": bool(g.acknowledged_at),
                "granted_by": g.granted_by,
                "last_used": used.get(g.user, g.last_used),
            }
            for g in all_grants
            if g.purpose == purpose.id
        ]
        for h in holders:
            if h["state"] == "expired":
                data.findings.append(
                    Finding("grant past its date, not revoked", f"{h['user']} / {purpose.id} (until {h['until']})")
                )
            if h["state"] == "valid" and (
                h["last_used"] is None or datetime.fromisoformat(h["last_used"]) < now - timedelta(days=365)
            ):
                granted = next(g for g in all_grants if g.user == h["user"] and g.purpose == purpose.id)
                if datetime.fromisoformat(granted.granted_at) < now - timedelta(days=365):
                    data.findings.append(Finding("grant unused for a year", f"{h['user']} / {purpose.id}"))
        accesses = [
            r["event"] | {"time": r["time"]}
            for r in records
            if r["event"].get("purpose") == purpose.id and r["time"][:10] >= since.isoformat()
        ]
        data.purposes.append(
            {
                "id": purpose.id,
                "name": purpose.name,
                "description": purpose.description,
                "legal_basis": purpose.legal_basis,
                "data_categories": purpose.data_categories,
                "privacy_classes": purpose.privacy_classes,
                "row_scope": purpose.row_scope,
                "retention": purpose.retention,
                "roles": purpose.roles,
                "owner": purpose.owner,
                "columns": columns,
                "grants": holders,
                "accesses": accesses,
            }
        )
        data.processing_register.append(
            {
                "verwerking": purpose.name,
                "doel": purpose.description,
                "rechtsgrond": purpose.legal_basis,
                "categorieen_persoonsgegevens": purpose.data_categories,
                "categorieen_betrokkenen": ["bewoners", "eigenaren en verhuurders", "melders"],
                "ontvangers": purpose.roles,
                "bewaartermijn": purpose.retention,
                "verwerkingsverantwoordelijke": "College van B&W van Rotterdam",
                "contact": purpose.owner,
                "beveiliging": "pseudonimisering aan de poort, doelgebonden datasets, "
                "versleuteling in rust, toegang per doel met logging (zie docs/privacy-design.md)",
            }
        )
    indicator_doc = yaml.safe_load(INDICATORS.read_text(encoding="utf-8"))
    protected_in_lineage = protected_traits_in_lineage(manifest, "woning_indicatoren")
    if protected_in_lineage:
        data.findings.append(Finding("protected trait in indicator lineage", ", ".join(protected_in_lineage)))
    variables = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text()).get("vars", {})
    for ind in indicator_doc["indicators"]:
        origin = describe_origin(graph, Field("warehouse/woning_indicatoren", ind["id"]))
        protected_fields = [str(f) for f in protected_inputs(graph, Field("warehouse/woning_indicatoren", ind["id"]))]
        if protected_fields:
            data.findings.append(Finding("protected trait feeds an indicator", f"{ind['id']}: {protected_fields}"))
        data.indicators.append(
            {
                **ind,
                "register": indicator_doc["register"],
                "threshold_values": {t: variables.get(t) for t in ind["thresholds"]},
                "source_fields_from_lineage": origin["source_fields"],
                "decided_by_from_lineage": origin["decided_by"],
                "protected_fields_in_column_lineage": protected_fields,
                "protected_traits_in_lineage": protected_in_lineage,
            }
        )
    data.boundary = boundary_steps(landing)
    data.openlineage_events = openlineage.events(graph, tags)
    for problem in openlineage.validate(data.openlineage_events)[:20]:
        data.findings.append(Finding("OpenLineage export invalid", problem))
    for f in identifier_findings or []:
        data.findings.append(Finding("direct identifier outside the raw area", f))
    return data


def _cell(v: Any) -> str:
    if isinstance(v, (list, tuple)) and len(v) > 3:  # long lists one item a line
        return "<br>".join(html.escape(_fmt(x)) for x in v)
    return html.escape(_fmt(v))


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return "" if v is None else str(v)


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:75em;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;font-size:.9em;"
    "vertical-align:top}th{background:#eef}nav a{margin-right:1em}.bad{color:#a00}"
)


def _page(title: str, body: str) -> str:
    nav = (
        '<nav><a href="index.html">Overzicht</a><a href="lineage.html">Lineage</a>'
        '<a href="verwerkingsregister.html">Verwerkingsregister</a><a href="indicatoren.html">Indicatoren</a>'
        '<a href="bevindingen.html">Bevindingen</a></nav>'
    )
    return (
        f'<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{nav}<h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def write_site(data: ReportData, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    pages = {}
    overview = [
        f"<p>Gemaakt op {data.generated}. Auditlog: {data.audit['records']} records, keten "
        f"{'intact' if data.audit['intact'] else '<span class=bad>GEBROKEN</span>'}; laatste record "
        f"{data.audit['head']['seq']}, hash <code>{data.audit['head']['hash']}</code> (controle later: "
        f"<code>rgw audit verify --head {data.audit['head']['seq']}:{data.audit['head']['hash']}</code>).</p>"
    ]
    for p in data.purposes:
        overview.append(
            f"<h2 id='{html.escape(p['id'], quote=True)}'>{html.escape(p['name'])}</h2>"
            f"<p>{html.escape(p['description'])}</p>"
            f"<p><b>Rechtsgrond:</b> {html.escape(_fmt(p['legal_basis']))}<br><b>Gegevens:</b> "
            f"{html.escape(_fmt(p['data_categories']))}<br><b>Klassen:</b> "
            f"{html.escape(_fmt(p['privacy_classes']))}<br><b>Rijen:</b> {html.escape(p['row_scope'])}"
            f"<br><b>Bewaartermijn:</b> {html.escape(p['retention'])}</p>"
            "<h3>Toegang</h3>"
            + _table(p["grants"], ["user", "until", "state", "acknowledged", "granted_by", "last_used"])
            + f"<h3>Raadplegingen ({len(p['accesses'])})</h3>"
            + _table(p["accesses"][-200:], ["time", "user", "action", "outcome", "statement", "rows"])
        )
    pages["index.html"] = _page("Privacyrapport Rotterdams Goed Wonen", "".join(overview))
    lineage = [
        "<p>Per gepubliceerde kolom: de bronvelden waar hij uit komt, met de soort van elke stap onderweg (copied, "
        "pseudonymised, encoded, generalised, linked, aggregated, derived), de bronvelden die bepalen welke rijen hij "
        "heeft (decided_by: joined, filtered, grouped) en de datasets die hij passeert. "
        'Dezelfde lineage als OpenLineage-events: <a href="openlineage.jsonl">openlineage.jsonl</a> '
        "(Marquez, DataHub, OpenMetadata).</p>"
    ]
    for p in data.purposes:
        lineage.append(
            f"<h2>{html.escape(p['name'])}</h2>"
            + _table(p["columns"], ["table", "column", "class", "sources", "source_fields", "decided_by", "through"])
        )
    lineage.append(
        "<h2>Aan de poort: wat er met elk bronveld gebeurde</h2>"
        + _table(data.boundary, ["source", "entity", "field", "step", "landing_column"])
    )
    pages["lineage.html"] = _page("Lineage van bronveld tot gepubliceerde kolom", "".join(lineage))
    pages["verwerkingsregister.html"] = _page(
        "Register van verwerkingsactiviteiten (AVG art. 30)",
        _table(
            data.processing_register,
            [
                "verwerking",
                "doel",
                "rechtsgrond",
                "categorieen_persoonsgegevens",
                "categorieen_betrokkenen",
                "ontvangers",
                "bewaartermijn",
                "verwerkingsverantwoordelijke",
                "contact",
                "beveiliging",
            ],
        ),
    )
    pages["indicatoren.html"] = _page(
        "Indicatorenregister",
        _table(
            data.indicators,
            [
                "id",
                "name",
                "rule",
                "inputs",
                "threshold_values",
                "source_fields_from_lineage",
                "decided_by_from_lineage",
                "protected_fields_in_column_lineage",
                "protected_traits_in_lineage",
            ],
        )
        + "<p>Geen indicator leest nationaliteit, geslacht of een ander beschermd kenmerk: die velden passeren de "
        "poort niet, en de lineage van elke indicator bevat ze niet.</p>",
    )
    pages["bevindingen.html"] = _page(
        "Bevindingen",
        _table([f.__dict__ for f in data.findings], ["kind", "detail"])
        if data.findings
        else "<p>Geen bevindingen.</p>",
    )
    written = []
    for name, text in pages.items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    if data.openlineage_events:
        written.append(openlineage.write(out / "openlineage.jsonl", data.openlineage_events))
    payload = {
        **{k: v for k, v in data.__dict__.items() if k not in ("lineage", "openlineage_events")},
        "findings": [f.__dict__ for f in data.findings],
    }
    (out / "privacy_report.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False, default=str))
    written.append(out / "privacy_report.json")
    return written


def build(paths, out: Path, since: date | None = None, manifest: dict | None = None) -> ReportData:
    """Collect and write the report for the hub at `paths` (a HubPaths)."""
    from governance.identifier_scan import raw_person_files, scan_cache, scan_zone

    manifest = manifest or json.loads(ensure_manifest().read_text())
    audit = AuditLog(paths.audit_log)
    grants = GrantRegister(paths.access / "grants.json", audit)
    findings = [str(f) for f in scan_zone([paths.landing], raw_person_files(paths.raw), scan_cache(paths))]
    data = collect(load(), manifest, grants, audit, paths.landing, since, findings)
    write_site(data, out)
    return data
