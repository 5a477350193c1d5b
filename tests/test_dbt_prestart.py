"""dbt started ahead of the warehouse step (orchestration/dbt_prestart.py): the process it hands over behaves as a
freshly started dbt, and it is never used for a build it was not started for."""

import os
import subprocess

import orchestration.dbt_prestart as prestart
from orchestration.dbt_manifest import DBT_PROJECT_DIR, dbt_executable
from orchestration.dbt_prestart import DbtWorker, dbt_started_ahead, take_started


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def _fresh(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    done = subprocess.run(args, env=env, cwd=DBT_PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return done.returncode, done.stdout


def _handed_over(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    process = DbtWorker(env, DBT_PROJECT_DIR).take(args, env, DBT_PROJECT_DIR)
    assert process is not None
    out = process.stdout.read()
    process.stdout.close()
    return process.wait(), out


def test_the_dbt_started_ahead_prints_and_exits_as_a_fresh_dbt():
    env = _env()
    for args in ([dbt_executable(), "--version"], [dbt_executable(), "no-such-command"]):
        assert _handed_over(args, env) == _fresh(args, env)


def test_a_worker_is_not_used_for_another_environment_command_or_folder(tmp_path):
    env = _env()
    asks = [
        ([dbt_executable(), "--version"], {**env, "RGW_WAREHOUSE": str(tmp_path / "other.duckdb")}, DBT_PROJECT_DIR),
        (["/usr/local/bin/dbt", "--version"], env, DBT_PROJECT_DIR),
        ([dbt_executable(), "--version"], env, tmp_path),
    ]
    for args, asked_env, cwd in asks:
        worker = DbtWorker(env, DBT_PROJECT_DIR)
        process = worker.process
        assert worker.take(args, asked_env, cwd) is None
        assert worker.process is None and process.poll() is not None  # stopped, not left waiting


def test_an_unused_worker_ends_without_running_dbt_and_is_taken_once():
    env = _env()
    with dbt_started_ahead(env, DBT_PROJECT_DIR):
        process = prestart._waiting.process
    assert process.wait(timeout=30) == 0 and prestart._waiting is None
    with dbt_started_ahead(env, DBT_PROJECT_DIR):
        taken = take_started([dbt_executable(), "--version"], env, DBT_PROJECT_DIR)
        assert taken is not None and take_started([dbt_executable(), "--version"], env, DBT_PROJECT_DIR) is None
        assert taken.wait(timeout=60) == 0
        taken.stdout.close()
