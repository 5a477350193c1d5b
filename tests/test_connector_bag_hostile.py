"""Hostile and broken LVBAG input (issue 13, for the BAG connector): a DTD with external entities or entity
expansion, a zip member that expands far beyond its size, a whitespace flood, and a truncated file given to
`rgw ingest bag`. Each is refused with an error naming the file, and nothing lands."""

from __future__ import annotations

import resource
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import connectors.xml_guard as guard
from connectors.bag import read_bag
from connectors.delivery import DeliveryError
from rgw.cli import main

HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<sl-bag-extract:bagStand xmlns:sl-bag-extract="http://www.kadaster.nl/schemas/lvbag/extract-deelbestand-lvc/v20200601">'
)


@pytest.fixture()
def num_file(real_fixtures, tmp_path) -> Path:
    folder = tmp_path / "bag"
    shutil.copytree(real_fixtures / "bag" / "nlextract", folder)
    return next(folder.glob("0221NUM*.xml"))


def _refused(path: Path, staging: Path, *match: str) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        read_bag(path, staging_root=staging)
    for text in match:
        assert text in str(caught.value), str(caught.value)
    assert not staging.exists() or list(staging.iterdir()) == []
    return caught.value


def test_external_entity_is_refused_and_never_read(num_file, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("0221200000330151")
    data = num_file.read_bytes()
    declaration = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'.encode()
    at = data.index(b"?>") + 2
    num_file.write_bytes(
        data[:at]
        + b"\n"
        + declaration
        + data[at:].replace(b"<Objecten:huisnummer>2<", b"<Objecten:huisnummer>&xxe;<", 1)
    )
    err = _refused(num_file.parent, tmp_path / "staging", "DOCTYPE", num_file.name)
    assert err.file == str(num_file)


def test_entity_expansion_is_refused(tmp_path):
    laughs = b'<!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
    )
    f = tmp_path / "bag" / "9999NUM01012026-000001.xml"
    f.parent.mkdir()
    f.write_bytes(b'<?xml version="1.0"?>\n' + laughs + b"]>\n<lolz>&lol9;</lolz>")
    _refused(f.parent, tmp_path / "staging", "DOCTYPE", f.name)
    # in a zip too, and in the delivery document the extract date is read from
    z = tmp_path / "lvbag.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(f, f.name)
    _refused(z, tmp_path / "staging", "DOCTYPE", "lvbag.zip/9999NUM01012026-000001.xml")
    doc = tmp_path / "bag" / "Leveringsdocument-BAG-Extract.xml"
    doc.write_bytes(f.read_bytes())
    f.unlink()
    _refused(f.parent, tmp_path / "staging", "DOCTYPE", doc.name)


def _zip_of_padding(path: Path, name: str, head: bytes, padding: bytes, size: int, level: int = 1) -> None:
    """A zip whose object member is `head` and `size` bytes of `padding`, deflated as it is written (never in memory).
    The delivery document gives the extract date, so the object member is read by the streaming parser only (whose
    `huge_tree` would hold a gigabyte text node whole: 1,050 MB peak without the guard, measured)."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf,
        zf.open(name, "w", force_zip64=True) as out,
    ):
        out.write(head)
        chunk = padding * ((1 << 20) // len(padding))
        for _ in range(size // len(chunk)):
            out.write(chunk)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(
            "Leveringsdocument-BAG-Extract.xml", "<a><StandTechnischeDatum>2026-01-01</StandTechnischeDatum></a>"
        )


def test_a_gigabyte_of_whitespace_in_a_zipped_member_is_refused_in_bounded_memory(tmp_path):
    bomb = tmp_path / "lvbag.zip"
    _zip_of_padding(bomb, "9999NUM01012026-000001.xml", HEAD, b" ", 1 << 30)
    assert bomb.stat().st_size < 8 << 20  # a gigabyte, deflated to a few megabytes
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _refused(bomb, tmp_path / "staging", "lvbag.zip/9999NUM01012026-000001.xml", "whitespace")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200


def test_a_member_that_expands_far_beyond_its_size_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(guard, "EXPANSION_FLOOR", 1 << 20)  # the check starts after 1 MB here, 64 MB in use
    bomb = tmp_path / "lvbag.zip"
    _zip_of_padding(bomb, "9999NUM01012026-000001.xml", HEAD, b"<!---->", 48 << 20, level=9)
    _refused(bomb, tmp_path / "staging", "lvbag.zip/9999NUM01012026-000001.xml", "zip bomb")
    nested = tmp_path / "nested.zip"  # the same inside the zip of a zip (spooled to disk: refused while copied)
    with zipfile.ZipFile(nested, "w", zipfile.ZIP_STORED) as zf:
        zf.write(bomb, "9999NUM01012026.zip")
    _refused(nested, tmp_path / "staging", "nested.zip/9999NUM01012026.zip", "zip bomb")


def test_truncated_lvbag_given_to_rgw_ingest_fails_naming_the_file_and_lands_nothing(num_file, tmp_path, monkeypatch):
    data = num_file.read_bytes()
    num_file.write_bytes(data[: len(data) * 2 // 3])
    monkeypatch.setenv("RGW_DATA", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["ingest", "bag", str(num_file.parent), "--land"])
    assert result.exit_code == 2, result.output
    assert f"{num_file}, line " in result.output and "malformed or truncated XML" in result.output
    raw = tmp_path / "data" / "raw"
    assert [p for p in raw.rglob("*") if p.is_file()] == []
