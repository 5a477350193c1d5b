"""`rgw reidentify`, `rgw audit verify`, `rgw access ...`: the route back and the registers, at a terminal."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from rgw.settings import HubPaths


def _registers():
    from governance.grants import GrantRegister
    from pseudonymisation.audit import AuditLog

    paths = HubPaths.from_env().ensure()
    audit = AuditLog(paths.audit_log)
    return paths, audit, GrantRegister(paths.access / "grants.json", audit)


OFFICER_KEY = click.option(
    "--officer-key",
    "officer_key",
    envvar="RGW_OFFICER_KEY",
    type=click.Path(path_type=Path),
    help="The privacy officer's key file (kept outside the hub's data folder); or RGW_OFFICER_KEY.",
)


def _officer(paths: HubPaths, key_file: Path | None):
    """The verified officer, or exit 3 with the reason (a typed name proves nothing)."""
    from governance.grants import AccessDenied
    from governance.officers import OfficerRegister

    try:
        return OfficerRegister(paths.access).verify_file(key_file)
    except AccessDenied as refusal:
        click.echo(f"refused: {refusal}", err=True)
        sys.exit(3)


def _to_server(step, *args, **kwargs):
    """Carry a register change to the hub's PostgreSQL server when one is set up; exit 5 when it cannot be reached."""
    from serving.config import ServerError

    try:
        return step(*args, **kwargs)
    except ServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(5)


@click.command()
@click.option("--user", required=True)
@click.option("--purpose", required=True)
@click.option("--case", "case", required=True, help="Case reference, e.g. RGW-2026-000123.")
@click.option("--pseudonym", required=True, help="A linkage pseudonym, e.g. bsn.v1.abcd...")
@OFFICER_KEY
def reidentify(user: str, purpose: str, case: str, pseudonym: str, officer_key: Path | None) -> None:
    """Return the identifier behind a linkage pseudonym, for an authorised user and one case; always logged.

    An act of the privacy officer: needs the officer's key."""
    from governance.cases import CaseRegister
    from governance.grants import AccessDenied
    from governance.officers import OfficerRegister
    from governance.purposes import load
    from governance.restrictions import RestrictionRegister
    from pseudonymisation.key_source import production_keystore
    from pseudonymisation.reidentify import reidentify as route_back
    from pseudonymisation.vault import Vault

    paths, audit, grants = _registers()
    keystore = production_keystore(paths)
    try:
        officer = OfficerRegister(paths.access).verify_file(officer_key)
    except AccessDenied as refusal:
        officer = None
        reason = str(refusal)
    try:
        found = route_back(
            Vault(paths.vault, keystore),
            audit,
            grants,
            user=user,
            purpose=purpose,
            case=case,
            pseudonym=pseudonym,
            restrictions=RestrictionRegister(paths.access, keystore.version),
            cases=CaseRegister(paths.landing),
            officer=officer,
            purposes=load(),
        )
    except AccessDenied as refusal:
        click.echo(f"refused: {reason if officer is None else refusal}", err=True)
        sys.exit(3)
    click.echo(found.identifier)


@click.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
@click.option(
    "--head",
    "head",
    help="A head kept elsewhere, SEQ:HASH (e.g. from a privacy report); default: the anchor beside the keys.",
)
def audit_verify(head: str | None) -> None:
    """Check the chain of the audit log against its anchored head; names the first broken or missing record."""
    _, log, _ = _registers()
    expected = None
    if head:
        seq, _, digest = head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.UsageError("--head takes SEQ:HASH, e.g. 12:3f5a... (64 hex characters)")
        expected = (int(seq), digest)
    from pseudonymisation.audit import AuditError

    try:
        result = log.verify(expected)
    except AuditError as exc:
        click.echo(f"audit log NOT VERIFIED: {exc}", err=True)
        sys.exit(4)
    if result.ok:
        anchored = expected or log.anchored_head()
        against = f", head at record {anchored[0]} matches" if anchored else " (no anchored head to check against)"
        click.echo(f"audit log intact: {result.records} records, chain verified{against}")
        return
    click.echo(f"audit log BROKEN at record {result.first_broken_seq}: {result.reason}", err=True)
    sys.exit(4)


@audit.command("collect")
def audit_collect() -> None:
    """Append the PostgreSQL server's audit trail (statements, refusals, logins of analysts) to the audit log, once."""
    from serving.access import cursor_file, user_purposes
    from serving.audit_collect import AuditCollector
    from serving.config import ServerConfig

    paths, log, grants = _registers()
    config = ServerConfig.from_env(paths)
    if not config.configured:
        click.echo("no PostgreSQL server is set up for this hub: nothing to collect")
        return
    done = _to_server(AuditCollector(config, log, cursor_file(paths)).collect, user_purposes(grants))
    click.echo(f"collected {done.events} audit event(s) from {done.lines} server log line(s) in {done.files} file(s)")


@click.group()
def access() -> None:
    """Grants per user and purpose: grant, revoke, acknowledge, credentials, sync, list, officer enrol."""


@access.command("grant")
@click.option("--user", required=True)
@click.option("--purpose", required=True)
@click.option("--until", "until", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@OFFICER_KEY
def access_grant(user: str, purpose: str, until, officer_key: Path | None) -> None:
    """Grant USER access under PURPOSE until a date (inclusive); with a server, also the user's login role."""
    from serving.access import sync
    from serving.roles import RoleError, check_user_name

    paths, _, grants = _registers()
    officer = _officer(paths, officer_key)
    try:
        check_user_name(user)
    except RoleError as exc:
        raise click.UsageError(str(exc)) from exc
    g = grants.grant(user, purpose, until.date(), officer)
    click.echo(
        f"granted {g.user} purpose {g.purpose} until {g.until} (by {g.granted_by}); "
        f"first use needs: rgw access acknowledge --user {user} --purpose {purpose}"
    )
    state = _to_server(sync, paths, grants, user)
    if state is not None:
        click.echo(
            f"server login {user} valid until {state.valid_until:%Y-%m-%d %H:%M %Z}; "
            f"rgw access credentials --user {user}"
        )


@access.command("revoke")
@click.option("--user", required=True)
@click.option("--purpose", required=True)
@OFFICER_KEY
def access_revoke(user: str, purpose: str, officer_key: Path | None) -> None:
    """Revoke at once: on the server the membership goes and the user's open sessions are ended."""
    from serving.access import sync

    paths, _, grants = _registers()
    officer = _officer(paths, officer_key)
    click.echo(f"revoked {grants.revoke(user, purpose, officer)} grant(s) of {user} for {purpose}")
    state = _to_server(sync, paths, grants, user)
    if state is not None:
        click.echo(
            f"server: {user} keeps {', '.join(state.purposes) or 'no purpose'}; {state.ended_sessions} session(s) ended"
        )


@access.command("acknowledge")
@click.option("--user", required=True)
@click.option("--purpose", required=True)
def access_acknowledge(user: str, purpose: str) -> None:
    """Show the purpose's statement and record that the user acknowledges it."""
    from governance.purposes import load
    from serving.access import sync

    paths, _, grants = _registers()
    click.echo(load().get(purpose).statement)
    grants.acknowledge(user, purpose)
    click.echo(f"acknowledged by {user}")
    state = _to_server(sync, paths, grants, user)
    if state is not None:
        click.echo(f"server: {user} may now read schema(s) {', '.join(state.purposes)}")


@access.command("credentials")
@click.option("--user", required=True)
@click.option("--reset", is_flag=True, help="Set a new password (the officer's act), then show it once.")
@OFFICER_KEY
def access_credentials(user: str, reset: bool, officer_key: Path | None) -> None:
    """Print USER's libpq URI with the password made at grant time: once; the hub keeps only the server's hash."""
    from serving.access import credentials_uri, sync

    paths, audit, grants = _registers()
    if reset:
        officer = _officer(paths, officer_key)
        _to_server(sync, paths, grants, user, new_credentials=True)
        audit.append({"action": "credentials_reset", "user": user, "by": officer.name})
    uri = _to_server(credentials_uri, paths, user)
    audit.append({"action": "credentials_shown", "user": user})
    click.echo(uri)


@access.command("sync")
def access_sync() -> None:
    """Make the server's roles match the register again (after the server was down, or nightly)."""
    from serving.access import sync_everyone

    paths, _, grants = _registers()
    for state in _to_server(sync_everyone, paths, grants):
        click.echo(f"{state.user:<20} login {'yes' if state.login else 'no ':<4} purposes {', '.join(state.purposes)}")


@access.group("officer")
def access_officer() -> None:
    """The privacy officers' credentials."""


@access_officer.command("enrol")
@click.option("--name", required=True)
@click.option(
    "--key-file", required=True, type=click.Path(path_type=Path), help="Where to write the new key (outside RGW_DATA)."
)
@OFFICER_KEY
def access_officer_enrol(name: str, key_file: Path, officer_key: Path | None) -> None:
    """Enrol a privacy officer and write their key; the first needs none, every later one an officer's key."""
    from governance.grants import AccessDenied
    from governance.officers import OfficerRegister

    paths, audit, _ = _registers()
    register = OfficerRegister(paths.access)
    by = _officer(paths, officer_key) if register.all() else None
    try:
        officer = register.enrol(name, key_file, paths.data, by=by)
    except (AccessDenied, ValueError) as exc:
        click.echo(f"refused: {exc}", err=True)
        sys.exit(3)
    audit.append(
        {
            "action": "officer_enrolled",
            "officer": officer.name,
            "key_id": officer.key_id,
            "by": by.name if by else "operator",
        }
    )
    click.echo(
        f"officer {officer.name} enrolled; key written to {key_file} (mode 0600): keep it off the hub's data folder"
    )


@access.command("list")
def access_list() -> None:
    _, _, grants = _registers()
    today = date.today()
    click.echo(f"{'user':<20} {'purpose':<28} {'until':<12} {'state':<12} {'acknowledged':<13} granted by")
    for g in grants.all():
        state = "revoked" if g.revoked_at else ("valid" if g.valid_on(today) else "expired")
        click.echo(
            f"{g.user:<20} {g.purpose:<28} {g.until:<12} {state:<12} {'yes' if g.acknowledged_at else 'no':<13} "
            f"{g.granted_by}"
        )


@click.command()
@click.option("--user", required=True)
@click.option("--purpose", required=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "parquet"]), default="table", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="File for csv or parquet output (csv defaults to stdout).")
@click.argument("sql")
def query(user: str, purpose: str, fmt: str, out: Path | None, sql: str) -> None:
    """Run one SELECT on PURPOSE's published dataset as USER; refused without a valid grant, always logged."""
    import pyarrow.parquet as pq

    from governance.gateway import connect
    from governance.grants import AccessDenied

    try:
        with connect(user, purpose) as session:
            table = session.query(sql)
    except AccessDenied as refusal:
        click.echo(f"refused: {refusal}", err=True)
        sys.exit(3)
    if fmt == "parquet":
        if out is None:
            raise click.UsageError("--format parquet needs --out FILE")
        pq.write_table(table, out)
        click.echo(f"{table.num_rows} rows -> {out}")
    elif fmt == "csv":
        from rgw.csv_output import write_csv

        write_csv(table, out or sys.stdout.buffer)
    else:
        click.echo(table.to_pandas().to_string(index=False, max_rows=200))


@click.command()
@click.option("--purpose", "purposes", multiple=True, help="Publish only these purposes (default: all).")
def publish(purposes: tuple[str, ...]) -> None:
    """Publish each purpose's dataset from the warehouse (fails closed on the column tags)."""
    import json

    from governance.grants import AccessDenied
    from governance.publish import PublicationRefused
    from governance.publish import publish as publish_one
    from governance.purposes import load
    from governance.restrictions import RestrictionRegister
    from hubcore.dbt_manifest import ensure_manifest
    from pseudonymisation.key_source import production_keystore

    paths = HubPaths.from_env().ensure()
    manifest = json.loads(ensure_manifest().read_text())
    for pid in purposes or tuple(load().purposes):
        try:
            pub = publish_one(
                pid,
                paths.warehouse,
                paths.published,
                manifest,
                production_keystore(paths),
                restricted=RestrictionRegister(paths.access, production_keystore(paths).version).restricted(),
            )
        except (PublicationRefused, AccessDenied) as refusal:
            click.echo(f"refused: {refusal}", err=True)
            sys.exit(5)
        click.echo(f"{pid}: " + ", ".join(f"{t.name} ({t.rows} rows, {len(t.columns)} columns)" for t in pub.tables))


@click.group()
def privacy() -> None:
    """The privacy officer's report."""


@privacy.command("report")
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Accesses from this date (default: a year).")
def privacy_report(out: Path, since) -> None:
    """Write the privacy report (HTML site and JSON): purposes, lineage, registers, grants, accesses, findings."""
    from governance.privacy_report import build

    data = build(HubPaths.from_env().ensure(), out, since.date() if since else None)
    click.echo(f"privacy report written to {out}/index.html ({len(data.findings)} finding(s))")
    for f in data.findings:
        click.echo(f"  finding: {f.kind}: {f.detail}")


@privacy.command("lineage")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="OpenLineage events, JSON lines.")
@click.option(
    "--column",
    "columns",
    multiple=True,
    help="Also print where these come from, e.g. published/casusbehandeling/fct_bewoningsperioden.persoon_psn",
)
def privacy_lineage(out: Path, columns: tuple[str, ...]) -> None:
    """Export the column lineage (raw field to published column) as OpenLineage events, validated first."""
    import json

    from governance import openlineage
    from governance.column_lineage import Field, for_manifest
    from governance.privacy_report import describe_origin
    from governance.publish import column_tags
    from hubcore.dbt_manifest import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text())
    graph = for_manifest(manifest)
    events = openlineage.events(graph, column_tags(manifest))
    problems = openlineage.validate(events)
    if problems:
        for problem in problems[:20]:
            click.echo(f"invalid: {problem}", err=True)
        sys.exit(6)
    openlineage.write(out, events)
    click.echo(f"{len(events)} OpenLineage events ({sum(len(c) for c in graph.columns.values())} columns) -> {out}")
    for text in columns:
        f = Field.parse(text)
        if f not in graph.steps:
            click.echo(f"{text}: no such column in the lineage", err=True)
            sys.exit(2)
        origin = describe_origin(graph, f)
        click.echo(f"{text}")
        for line in origin["source_fields"] or ["(a constant in the model's SQL)"]:
            click.echo(f"  <- {line}")
        for line in origin["decided_by"]:
            click.echo(f"  rows decided by {line}")


@click.group()
def subject() -> None:
    """Requests of data subjects."""


@subject.command("report")
@click.option("--officer", required=True, help="The privacy officer handling the request.")
@click.option("--request", "request_ref", required=True, help="The request's reference.")
@click.option("--bsn", required=True, help="The person's BSN, as given in the request (never logged).")
@click.option("--out", required=True, type=click.Path(path_type=Path))
def subject_report(officer: str, request_ref: str, bsn: str, out: Path) -> None:
    """Every place the hub holds data about one person, with purposes (AVG art. 15); the request is logged."""
    from governance.subject import subject_report as build
    from governance.subject import write_subject_report
    from pseudonymisation.key_source import production_keystore

    paths, log, _ = _registers()
    report = build(paths, production_keystore(paths), log, officer=officer, request=request_ref, bsn=bsn)
    path = write_subject_report(report, out)
    click.echo(f"{len(report['places'])} place(s) hold data about this person -> {path}")
    for place in report["places"]:
        click.echo(f"  {place['zone']:<10} {place.get('purpose', ''):<26} {place['table']:<32} {place['rows']} row(s)")


@subject.command("restrict")
@click.option("--officer", required=True, help="The privacy officer handling the request.")
@click.option("--request", "request_ref", required=True, help="The request's reference.")
@click.option("--bsn", required=True, help="The person's BSN, as given in the request (never logged).")
@click.option("--reason", default="restriction requested (AVG art. 18)", show_default=True)
def subject_restrict(officer: str, request_ref: str, bsn: str, reason: str) -> None:
    """Restrict processing of one person (AVG art. 18): the route back refuses them, publication leaves them out."""
    from governance.subject_rights import restrict
    from pseudonymisation.key_source import production_keystore

    paths, log, _ = _registers()
    outcome = restrict(
        paths, production_keystore(paths), log, officer=officer, request=request_ref, bsn=bsn, reason=reason
    )
    click.echo(f"restricted {outcome['linkage_pseudonym']} under request {request_ref}: {outcome['effect']}")
    click.echo("run the publication (rgw publish, or the downstream job) for the published datasets to follow")


@subject.command("lift-restriction")
@click.option("--officer", required=True)
@click.option("--request", "request_ref", required=True)
@click.option("--bsn", required=True, help="The person's BSN (never logged).")
def subject_lift_restriction(officer: str, request_ref: str, bsn: str) -> None:
    """Lift a person's restriction (the register keeps the dated entry); logged."""
    from governance.subject_rights import lift_restriction
    from pseudonymisation.key_source import production_keystore

    paths, log, _ = _registers()
    n = lift_restriction(paths, production_keystore(paths), log, officer=officer, request=request_ref, bsn=bsn)
    click.echo(f"lifted {n} restriction(s) under request {request_ref}")


@subject.command("erase")
@click.option("--officer", required=True, help="The privacy officer handling the request.")
@click.option("--request", "request_ref", required=True, help="The request's reference.")
@click.option("--bsn", required=True, help="The person's BSN, as given in the request (never logged).")
@click.option("--ground", required=True, help="The legal ground of the erasure, e.g. 'AVG art. 17(1)(c)'.")
@click.option("--email", "emails", multiple=True, help="An e-mail address the person reported under (never logged).")
@click.option("--phone", "phones", multiple=True, help="A phone number the person reported under (never logged).")
def subject_erase(
    officer: str, request_ref: str, bsn: str, ground: str, emails: tuple[str, ...], phones: tuple[str, ...]
) -> None:
    """Erase one person where the law allows it (AVG art. 17); base-registry rows are restricted instead."""
    from governance.subject_rights import erase
    from pseudonymisation.key_source import production_keystore

    paths, log, _ = _registers()
    outcome = erase(
        paths,
        production_keystore(paths),
        log,
        officer=officer,
        request=request_ref,
        bsn=bsn,
        ground=ground,
        emails=emails,
        phones=phones,
    )
    erased = outcome["erased"]
    click.echo(f"erased {outcome['linkage_pseudonym']} under request {request_ref} ({ground}):")
    click.echo(f"  vault entries removed: {erased['vault_entries']}")
    click.echo(f"  landing rows removed:  {erased['landing_rows']}")
    click.echo(f"  pseudonyms kept out of future deliveries: {erased['suppressed_pseudonyms']}")
    if outcome["restricted_not_erased"]:
        click.echo(f"  restricted, not erased: {', '.join(outcome['restricted_not_erased'])}")
    click.echo(f"  {outcome['note']}")
