"""A run Dagster starts by itself (the UI, a sensor, the schedule) never makes up a master key.

`rgw run` refuses without a managed key in its preflight; the assets must refuse too, since a run launched from the
UI or by the daemon passes no preflight. Only a synthetic world `rgw demo` generated may use its demo key.
"""

from __future__ import annotations

import dagster as dg
import pytest

from connectors.registry import SOURCES
from hubcore.paths import HubPaths
from orchestration.assets.landing import build_landing_asset
from orchestration.resources import HubPathsResource
from pseudonymisation.key_source import DEMO_MARKER, NoManagedKey, production_keystore
from pseudonymisation.keys import KeyStore

KEY = "cd" * 32


@pytest.fixture
def no_key_env(monkeypatch):
    monkeypatch.delenv("RGW_MASTER_KEY", raising=False)
    monkeypatch.delenv("RGW_KEY_FILE", raising=False)


def test_a_data_folder_without_a_managed_key_is_refused_and_nothing_is_generated(tmp_path, no_key_env):
    paths = HubPaths(tmp_path).ensure()
    with pytest.raises(NoManagedKey, match="set RGW_MASTER_KEY or RGW_KEY_FILE"):
        production_keystore(paths)
    assert not list(paths.keys.glob("master*.key"))


def test_a_key_file_left_in_a_real_data_folder_is_not_taken_for_a_managed_key(tmp_path, no_key_env):
    paths = HubPaths(tmp_path).ensure()
    KeyStore(paths.keys, allow_demo_key=True).derive("x")  # a demo key made before this rule existed
    with pytest.raises(NoManagedKey, match="RGW_MASTER_KEY or RGW_KEY_FILE"):
        production_keystore(paths)


def test_the_managed_key_and_a_demo_worlds_key_are_used(tmp_path, no_key_env, monkeypatch):
    demo = HubPaths(tmp_path / "demo").ensure()
    (demo.data / DEMO_MARKER).write_text("tiny:5")
    KeyStore(demo.keys, allow_demo_key=True).derive("x")  # what `rgw demo` does (make_demo_key)
    assert len(production_keystore(demo).derive("y")) == 32
    real = HubPaths(tmp_path / "real").ensure()
    monkeypatch.setenv("RGW_MASTER_KEY", KEY)
    assert production_keystore(real).derive("y") == KeyStore(real.keys, allow_demo_key=False).derive("y")
    assert not list(real.keys.glob("master*.key"))


def test_a_landing_started_by_dagster_itself_refuses_without_a_managed_key(tmp_path, no_key_env):
    """What a run from the UI or a sensor does: materialise a landing in process, no `rgw run` preflight."""
    paths = HubPaths(tmp_path).ensure()
    (paths.raw / "gebieden" / "20260101").mkdir(parents=True)  # an ingested delivery (the key is asked for first)
    land = build_landing_asset(SOURCES["gebieden"])
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("gebieden_deliveries", ["20260101"])
    result = dg.materialize(
        [land],
        instance=instance,
        partition_key="20260101",
        resources={"hub": HubPathsResource(data_dir=str(tmp_path))},
        raise_on_error=False,
    )
    assert not result.success
    error = result.failure_data_for_node("land_gebieden").error.to_string()
    assert "NoManagedKey: no master key" in error and "set RGW_MASTER_KEY or RGW_KEY_FILE" in error
    assert not list(paths.keys.glob("master*.key"))  # no demo key generated
    assert not (paths.landing / "gebieden").exists() or not any((paths.landing / "gebieden").iterdir())


@pytest.mark.parametrize(
    "args",
    [
        ["query", "--user", "ana", "--purpose", "signalering", "select 1"],
        ["keys", "rotate", "--by", "privacy-officer"],
    ],
)
def test_the_analysts_and_officers_commands_make_up_no_key_either(tmp_path, no_key_env, monkeypatch, args):
    """Only `rgw demo` makes a demo key: the gateway and key rotation refuse without a managed key, naming where it
    must come from, and leave no key behind."""
    from click.testing import CliRunner

    from rgw.cli import main

    monkeypatch.setenv("RGW_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert "RGW_MASTER_KEY or RGW_KEY_FILE" in (result.output + str(result.exception or ""))
    assert not list((tmp_path / "keys").glob("master*.key"))
