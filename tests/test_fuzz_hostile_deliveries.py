"""Deliveries that attack or break the hub on purpose, each refused with a message naming the file and the place:
a symlink out of the delivery, a zip member leaving its folder, a zip bomb, a snapshot with only a header, a
truncated LVBAG file; and a full disk is one clear message, with nothing half-landed."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from connectors.delivery import DeliveryError
from connectors.delivery_guard import BOMB_MIN_BYTES, check_delivery
from connectors.registry import SOURCES

REPO = Path(__file__).resolve().parents[1]


def _rgw(*args: str, env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rgw.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, **kw
    )


@pytest.fixture(scope="module")
def stedin_delivery(tmp_path_factory) -> Path:
    """The synthetic tiny world's Stedin delivery (connection list and measured usage)."""
    from synth import generate

    out = tmp_path_factory.mktemp("hostile-synth")
    generate("tiny", 11, out)
    return next((out / "incoming" / "stedin").iterdir())


def test_a_symlink_out_of_the_delivery_is_refused_not_followed(stedin_delivery, tmp_path):
    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text((stedin_delivery / "stedin_verbruik.csv").read_text())
    delivery = tmp_path / "delivery"
    shutil.copytree(stedin_delivery, delivery)
    (delivery / "stedin_verbruik.csv").unlink()
    (delivery / "stedin_verbruik.csv").symlink_to(secret)
    with pytest.raises(DeliveryError, match=r"stedin_verbruik\.csv, symbolic link: points to .*secret\.csv, outside"):
        SOURCES["stedin"].read(delivery, delivery_id="x", staging_root=tmp_path / "staging")
    assert not any((tmp_path / "staging").glob("*")) if (tmp_path / "staging").exists() else True

    # a link to a folder outside, and a delivery that is itself a link, are refused too
    (delivery / "stedin_verbruik.csv").unlink()
    (delivery / "more").symlink_to(secret.parent, target_is_directory=True)
    with pytest.raises(DeliveryError, match=r"more, symbolic link: points to .*elsewhere, outside the delivery"):
        check_delivery(delivery)
    (tmp_path / "linked").symlink_to(delivery, target_is_directory=True)
    with pytest.raises(DeliveryError, match=r"linked, the delivery itself: is a symbolic link"):
        check_delivery(tmp_path / "linked")


def test_a_symlink_inside_the_delivery_reads_as_its_file(stedin_delivery, tmp_path):
    delivery = tmp_path / "delivery"
    shutil.copytree(stedin_delivery, delivery)
    (delivery / "sub").mkdir()
    (delivery / "stedin_verbruik.csv").rename(delivery / "sub" / "verbruik.csv")
    (delivery / "stedin_verbruik.csv").symlink_to(Path("sub") / "verbruik.csv")
    check_delivery(delivery)  # stays inside: allowed


def _bag_zip(tmp_path: Path, member: str, content: bytes) -> Path:
    path = tmp_path / "bag.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Leveringsdocument-BAG-Extract.xml", b"<x/>")
        zf.writestr(member, content)
    return path


@pytest.mark.parametrize("member", ["../../evil.xml", "/etc/cron.d/evil.xml", "sub/../../evil.xml", "C:\\evil.xml"])
def test_a_zip_member_leaving_the_delivery_folder_is_refused(tmp_path, member):
    path = _bag_zip(tmp_path, member, b"<x/>")
    with pytest.raises(DeliveryError, match=r"bag\.zip, zip member .*: its name leaves the delivery folder: refused"):
        SOURCES["bag"].read(path, delivery_id="x", staging_root=tmp_path / "staging")


def test_a_zip_bomb_is_refused_before_it_is_expanded(tmp_path):
    size = BOMB_MIN_BYTES + (8 << 20)
    path = tmp_path / "bag.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Leveringsdocument-BAG-Extract.xml", b"<x/>")
        with zf.open("0599NUM01112026-000001.xml", "w", force_zip64=True) as member:
            for _ in range(size >> 20):
                member.write(b" " * (1 << 20))
    assert path.stat().st_size < size // 200
    tracemalloc.start()
    with pytest.raises(DeliveryError, match=r"zip member '0599NUM01112026-000001\.xml'.*a zip bomb, refused"):
        SOURCES["bag"].read(path, delivery_id="x", staging_root=tmp_path / "staging")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 4 << 20  # refused from the zip's directory, not by expanding the member


def test_a_nested_zip_is_checked_too(tmp_path):
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("../escape.xml", b"<x/>")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "9999NUM01112026.zip")
    with pytest.raises(DeliveryError, match=r"outer\.zip, zip member '9999NUM01112026\.zip/\.\./escape\.xml'"):
        check_delivery(outer)


def test_a_stedin_snapshot_with_only_a_header_is_refused(stedin_delivery, tmp_path):
    delivery = tmp_path / "delivery"
    shutil.copytree(stedin_delivery, delivery)
    header = (delivery / "stedin_aansluitingen.csv").read_text().splitlines()[0]
    (delivery / "stedin_aansluitingen.csv").write_text(header + "\n")
    with pytest.raises(
        DeliveryError,
        match=r"stedin_aansluitingen\.csv, line 2: a snapshot delivery with no records: the connection list",
    ):
        SOURCES["stedin"].read(delivery, delivery_id="x", staging_root=tmp_path / "staging")
    env = {**os.environ, "RGW_DATA": str(tmp_path / "data")}
    result = _rgw("ingest", "stedin", str(delivery), "--land", env=env)
    assert result.returncode == 2 and "a snapshot delivery with no records" in result.stderr, result.stderr
    assert not (tmp_path / "data" / "raw" / "stedin").exists()


def test_a_truncated_lvbag_file_is_refused_naming_the_file(real_fixtures, tmp_path):
    source = real_fixtures / "bag" / "nlextract" / "0221NUM15092020-000001.xml"
    data = source.read_bytes()
    truncated = tmp_path / source.name
    truncated.write_bytes(data[: len(data) // 2])
    env = {**os.environ, "RGW_DATA": str(tmp_path / "data")}
    result = _rgw("ingest", "bag", str(truncated), env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"error: {truncated}" in result.stderr and "Traceback" not in result.stderr


def _tiny_disk_command(data: Path, command: list[str]) -> tuple[list[str], object]:
    """Run with RGW_DATA on a 16 KiB tmpfs of its own (a user and mount namespace: no root needed); where namespaces
    are not allowed, a file size limit stands in for the full disk (EFBIG instead of ENOSPC)."""
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode == 0:
        script = f'mount -t tmpfs -o size=16k tmpfs "{data}" && exec "$@"'
        return ["unshare", "-rm", "sh", "-c", script, "sh", *command], None

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))

    return command, limit


def test_a_full_disk_is_one_clear_message_and_nothing_is_half_landed(stedin_delivery, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    command, preexec = _tiny_disk_command(
        data, [sys.executable, "-m", "rgw.cli", "ingest", "stedin", str(stedin_delivery), "--land"]
    )
    env = {**os.environ, "RGW_DATA": str(data)}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, preexec_fn=preexec)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Error: the disk is full: writing" in result.stderr, result.stderr
    assert "Nothing was half-landed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (data / "raw" / "stedin").exists()  # on the tmpfs it is gone with the namespace; with the limit: here
