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
