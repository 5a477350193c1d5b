"""Shared test fixtures: where the real sample files are, and fresh folders per test."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_FIXTURES = REPO.parent / "shared" / "fixtures" / "real"


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """The real published sample files (see PROVENANCE.md there); CI clones the repo beside `shared/`."""
    if not REAL_FIXTURES.exists():
        pytest.fail(f"real fixtures not found at {REAL_FIXTURES}: clone the repo beside shared/")
    return REAL_FIXTURES
