"""Serving analysts from PostgreSQL: publishing every purpose into the server, and 20 analysts querying at once.

Goals of issue 10, on the city-scale publication (RGW_BENCH_SCALE, default city; the hub is generated and run once
into benchmarks/.cache/serving-<scale>/ by `rgw demo`, which takes long at city scale) on 2 cores:

1. Publishing every purpose's sealed dataset into PostgreSQL (serving/publish.py: unseal, Arrow, ADBC COPY binary,
   indexes, atomic swap) takes under 60 s in all. Anchor: unsealing the same datasets and reading every table to
   Arrow from DuckDB, the part of the work that is not PostgreSQL's.
2. 20 concurrent sessions, each its own analyst login, run a mix of typical queries (the selection list of one buurt,
   one owner's portfolio, the owners to approach, programme monitoring): p50 and p95 latency and queries per second;
   p95 under 1 s. Anchor: the same mix from one session alone (p50), so the ratio says what the crowd costs.

The server is a temporary cluster made by the same code as `make serve`, on a free port, removed at the end. The
request loops are bounded (a fixed number of queries per session) and talk only to 127.0.0.1.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.harness import CACHE, REPO, write_result

SCALE = os.environ.get("RGW_BENCH_SCALE", "city")
SESSIONS = 20
QUERIES_PER_SESSION = int(os.environ.get("RGW_BENCH_QUERIES", "40"))
PURPOSES_READ = ("selectie_integrale_acties", "eigenaarsaanpak", "programmamonitoring")


def hub_data(scale: str) -> Path:
    """A hub of `scale` run once with `rgw demo`, cached; RGW_BENCH_SERVING_DATA points at an existing one."""
    if os.environ.get("RGW_BENCH_SERVING_DATA"):
        return Path(os.environ["RGW_BENCH_SERVING_DATA"])
    data = CACHE / f"serving-{scale}" / "data"
    if not (data / "published").exists() or not any((data / "published").glob("*/*.duckdb.enc")):
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {"RGW_DATA": str(data)}
        subprocess.run([str(REPO / ".venv" / "bin" / "rgw"), "demo", "--scale", scale], env=env, check=True)
    return data


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def queries(rng: random.Random, buurten: list[str], owners: list[str]) -> list[tuple[str, str, list]]:
    """(kind, sql, parameters): the mix an analyst, a casusregisseur and a programme manager run in a day."""
    return [
        (
            "selection list of a buurt",
            "select buurtnaam, straatnaam, adres_kort, n_indicatoren, toelichting from selectie_integrale_acties "
            "where buurtcode = %s order by rang_in_buurt",
            [rng.choice(buurten)],
        ),
        (
            "indicators per buurt",
            "select buurtnaam, count(*) as woningen, sum(n_indicatoren) as signalen, avg(n_ingeschreven) as bewoners "
            "from woning_indicatoren where in_focusgebied group by buurtnaam order by signalen desc",
            [],
        ),
        ("owner portfolio", "select * from dim_eigenaren where eigenaar_id = %s", [rng.choice(owners)]),
        (
            "owners to approach",
            "select eigenaar_id, n_woningen, n_woningen_met_meldingen, toelichting from selectie_stopgesprekken "
            "order by rang limit 50",
            [],
        ),
        (
            "monitoring",
            "select d.jaar, d.doel, d.norm_per_jaar, d.gerealiseerd, w.wijk, w.nieuwe_zaken from monitoring_doelen d "
            "left join monitoring_nieuwe_zaken_per_wijk w using (jaar) order by d.jaar, w.wijk",
            [],
        ),
    ]


def run_session(uri: str, seed: int, buurten, owners, n: int, latencies: list, errors: list, start: threading.Event):
    import psycopg

    rng = random.Random(seed)
    try:
        with psycopg.connect(uri, autocommit=True) as con:
            start.wait(60)
            for _ in range(n):
                kind, sql, params = rng.choice(queries(rng, buurten, owners))
                t = time.perf_counter()
                con.execute(sql, params).fetchall()
                latencies.append((kind, time.perf_counter() - t))
    except Exception as exc:  # reported, not hidden: a failed session fails the benchmark
        errors.append(repr(exc))


def crowd(uris: list[str], buurten, owners, n: int) -> dict:
    latencies: list = []
    errors: list = []
    start = threading.Event()
    threads = [
        threading.Thread(target=run_session, args=(uri, i, buurten, owners, n, latencies, errors, start))
        for i, uri in enumerate(uris)
    ]
    for t in threads:
        t.start()
    time.sleep(1.0)  # every session logged in before the clock starts
    began = time.perf_counter()
    start.set()
    for t in threads:
        t.join(600)
    wall = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} session(s) failed: {errors[:3]}")
    times = sorted(s for _, s in latencies)
    per_kind = {}
    for kind in sorted({k for k, _ in latencies}):
        mine = sorted(s for k, s in latencies if k == kind)
        per_kind[kind] = {"n": len(mine), "p50_ms": round(1000 * statistics.median(mine), 1)}
    return {
        "sessions": len(uris),
        "queries": len(times),
        "p50_ms": round(1000 * statistics.median(times), 1),
        "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 1),
        "max_ms": round(1000 * times[-1], 1),
        "queries_per_second": round(len(times) / wall, 1),
        "per_kind": per_kind,
    }


def main() -> dict:
    import json

    import duckdb
    import psycopg

    from governance.grants import Grant
    from governance.publish import column_tags, unsealed
    from governance.purposes import load
    from orchestration.dbt_manifest import ensure_manifest
    from pseudonymisation.keys import KeyStore
    from serving.cluster import remove, serve
    from serving.config import ServerConfig
    from serving.credentials import scram_verifier
    from serving.publish import load_purpose
    from serving.roles import sync_user

    data = hub_data(SCALE)
    keystore = KeyStore(data / "keys")
    tags = column_tags(json.loads(ensure_manifest().read_text()))
    purposes = list(load().purposes.values())
    sealed = {p.id: data / "published" / p.id / f"{p.id}.duckdb.enc" for p in purposes}

    began = time.perf_counter()  # anchor: unseal and read every table to Arrow, no PostgreSQL
    rows = 0
    for p in purposes:
        with unsealed(sealed[p.id], keystore, p.id) as plain:
            con = duckdb.connect(str(plain), read_only=True)
            rows += sum(con.sql(f"select * from {t}").to_arrow_table().num_rows for t in p.tables)
            con.close()
    anchor_read = time.perf_counter() - began

    root = Path(tempfile.mkdtemp(prefix="rgw-bench-pg-", dir="/tmp"))
    os.chmod(root, 0o711)
    config = ServerConfig(pgdata=root / "postgres", port=_free_port(), secret_file=root / "admin.secret")
    try:
        serve(config)
        began = time.perf_counter()
        per_purpose = {}
        for p in purposes:
            served = load_purpose(config, p.id, sealed[p.id], keystore, tags)
            per_purpose[p.id] = {"rows": sum(served.tables.values()), "seconds": round(served.seconds, 2)}
        publish_seconds = time.perf_counter() - began

        until = (date.today() + timedelta(days=1)).isoformat()
        passwords = {f"bench{i:02d}": f"bench-password-{i:02d}" for i in range(SESSIONS)}
        with psycopg.connect(config.admin_conninfo(), autocommit=True) as con:
            for user, password in passwords.items():
                grants = [Grant(user, p, until, "bench", "now", acknowledged_at="now") for p in PURPOSES_READ]
                sync_user(con, user, grants, password_verifier=scram_verifier(password))
            buurten = [
                r[0]
                for r in con.execute(
                    "select distinct buurtcode from selectie_integrale_acties.selectie_integrale_acties"
                )
            ]
            owners = [r[0] for r in con.execute("select eigenaar_id from eigenaarsaanpak.dim_eigenaren limit 5000")]
        uris = [config.user_uri(u, pw) for u, pw in passwords.items()]
        alone = crowd(uris[:1], buurten, owners, QUERIES_PER_SESSION)
        together = crowd(uris, buurten, owners, QUERIES_PER_SESSION)
    finally:
        remove(config)
        shutil.rmtree(root, ignore_errors=True)

    result = {
        "scale": SCALE,
        "cores": os.cpu_count(),
        "published_rows": rows,
        "publish_into_postgres_seconds": round(publish_seconds, 1),
        "publish_goal_seconds": 60,
        "publish_goal_met": publish_seconds < 60,
        "anchor_unseal_and_read_seconds": round(anchor_read, 1),
        "publish_vs_anchor": round(publish_seconds / anchor_read, 1) if anchor_read else None,
        "per_purpose": per_purpose,
        "one_session": alone,
        "twenty_sessions": together,
        "p95_goal_ms": 1000,
        "p95_goal_met": together["p95_ms"] < 1000,
        "crowd_p95_vs_alone_p50": round(together["p95_ms"] / alone["p50_ms"], 1) if alone["p50_ms"] else None,
    }
    write_result("serving", result)
    return result


if __name__ == "__main__":
    print(main())
