"""Shared test fixtures: where the real sample files are, and a whole hub run on the tiny synthetic Rotterdam."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.officers import Officer

REPO = Path(__file__).resolve().parents[1]
REAL_FIXTURES = REPO.parent / "shared" / "fixtures" / "real"
# Granting, revoking and re-identifying take a verified privacy officer (governance/officers.py); tests that are not
# about the officer's key use this one.
TEST_OFFICER = Officer("privacy-officer", "test")


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """The real published sample files (see PROVENANCE.md there); CI clones the repo beside `shared/`."""
    if not REAL_FIXTURES.exists():
        pytest.fail(f"real fixtures not found at {REAL_FIXTURES}: clone the repo beside shared/")
    return REAL_FIXTURES


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server() -> Iterator:
    """A PostgreSQL server of the hub's own making (the code `make serve` runs) on a free port, in a temporary folder
    its service user can reach; stopped and removed at the end of the session."""
    import os
    import shutil
    import tempfile

    from serving.cluster import remove, serve
    from serving.config import ServerConfig

    root = Path(tempfile.mkdtemp(prefix="rgw-pg-", dir="/tmp"))  # searchable by the service user, whatever TMPDIR is
    os.chmod(root, 0o711)
    config = ServerConfig(pgdata=root / "postgres", port=_free_port(), secret_file=root / "admin.secret")
    try:
        serve(config)
        yield config
    finally:
        remove(config)
        shutil.rmtree(root, ignore_errors=True)


def materialised_hub(tmp_path_factory) -> Iterator[tuple]:
    """Every asset materialised on the tiny synthetic Rotterdam (seed 5) in an ephemeral Dagster instance, with the
    hub's data folder and a demo key in the environment: (paths, instance, run report). For module fixtures of the
    test files that need the whole hub (`yield from materialised_hub(tmp_path_factory)`)."""
    import dagster as dg

    from orchestration.runner import run_everything
    from rgw.settings import HubPaths
    from synth import generate

    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("hub")
    generate("tiny", 5, data)
    mp.setenv("RGW_DATA", str(data))
    mp.setenv("RGW_MASTER_KEY", "ab" * 32)
    paths = HubPaths(data).ensure()
    instance = dg.DagsterInstance.ephemeral()
    try:
        yield paths, instance, run_everything(instance, paths)
    finally:
        mp.undo()


def open_case(paths) -> str:
    """An open case of the synthetic case register: the route back asks for one."""
    import pyarrow.parquet as pq

    for part in sorted(paths.landing.glob("meldpunten/*/zaak.parquet")):
        for row in pq.read_table(part, columns=["zaak_id", "gesloten_op"]).to_pylist():
            if not row["gesloten_op"]:
                return row["zaak_id"]
    raise AssertionError("the synthetic case register holds no open case")


@pytest.fixture(scope="module")
def warehouse(hub):
    """The warehouse of the module's `hub` fixture (a materialised hub), read-only."""
    import duckdb

    paths, _, _ = hub
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    yield con
    con.close()
