"""Landing only what changed (pseudonymisation/reuse.py): a re-delivery landed on top of the previous landing gives the
table a landing from scratch gives, value for value, while only its new and changed rows pass the boundary; a changed
context (key rotation, erasure, BAG files) or a raw file ingested again lands everything anew.

The tiny synthetic Rotterdam through the real connectors; the re-deliveries are made in the raw zone (what the
boundary reads): a person removed, one added, one renamed, an address spell moved, every source file renamed.
"""

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from connectors.delivery import land_delivery
from connectors.identifiers import is_valid_bsn
from connectors.registry import SOURCES
from governance import identifier_scan
from governance.identifier_scan import scan_zone
from governance.restrictions import SuppressionList
from hubcore.paths import HubPaths
from linkage.address.bag import bag_address_table
from linkage.address.resolve import BagIndex
from orchestration.assets import landing as landing_assets
from orchestration.assets.landing import bag_index_on_first_use, boundary_context, reuse_context
from pseudonymisation.boundary import land_delivery_folder
from pseudonymisation.keys import KeyStore
from pseudonymisation.policy import Boundary
from pseudonymisation.pseudonyms import Pseudonymiser
from pseudonymisation.vault import Vault
from synth import generate

FIRST, NEXT = "20261101", "20261108"
SNAPSHOTS = ("brp", "brk", "corporaties", "stedin")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Raw deliveries of the tiny world (BAG and the snapshot sources), the BAG index and a key store."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RGW_MASTER_KEY", "cd" * 32)
    root = tmp_path_factory.mktemp("reuse")
    generate("tiny", 7, root)
    paths = HubPaths(root)
    for name in ("bag", *SNAPSHOTS):
        land_delivery(SOURCES[name].read(root / "incoming" / name / FIRST, delivery_id=FIRST), paths.raw)
    yield paths, BagIndex(bag_address_table(paths.raw / "bag" / FIRST))
    mp.undo()


def _copy_raw(paths: HubPaths, source: str, to: str) -> Path:
    """The raw delivery FIRST again as delivery `to`, every source_file naming the new delivery's folder."""
    target = paths.raw / source / to
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(paths.raw / source / FIRST, target)
    for entity in SOURCES[source].entities:
        table = pq.read_table(target / f"{entity}.parquet")
        if "source_file" in table.column_names and table.num_rows:
            renamed = pc.replace_substring(table["source_file"], f"/{FIRST}/", f"/{to}/")
            table = table.set_column(table.column_names.index("source_file"), "source_file", renamed)
        pq.write_table(table, target / f"{entity}.parquet")
    return target


def _unused_bsn(taken: set[str]) -> str:
    return next(b for n in range(100_000_000, 999_999_999, 7) if is_valid_bsn(b := f"{n:09d}") and b not in taken)


def _corrected_brp(paths: HubPaths) -> dict[str, int]:
    """NEXT: FIRST with one person removed, one added, one renamed and one address spell moved; returns how many
    rows of each entity are new or changed in their boundary inputs."""
    target = _copy_raw(paths, "brp", NEXT)
    persons = pq.read_table(target / "persoon.parquet")
    spells = pq.read_table(target / "verblijfplaats_historie.parquet")
    bsn = persons["bsn"].to_pylist()
    gone, renamed, model = bsn[0], bsn[5], bsn[10]
    added = _unused_bsn(set(bsn))
    rows = persons.to_pylist()
    rows[5]["voornamen"] = (rows[5]["voornamen"] or "") + " Corr"
    rows.insert(20, {**rows[10], "bsn": added, "a_nummer": None})
    persons = pa.Table.from_pylist(rows[1:], schema=persons.schema)
    spell_rows = [r for r in spells.to_pylist() if r["bsn"] != gone]
    copies = [{**r, "bsn": added, "a_nummer": None} for r in spell_rows if r["bsn"] == model]
    moved = next(i for i, r in enumerate(spell_rows) if r["bsn"] not in (renamed, model))
    spell_rows[moved] = {**spell_rows[moved], "huisnummer": 99999, "nummeraanduiding_id": None}
    spells = pa.Table.from_pylist(spell_rows[:30] + copies + spell_rows[30:], schema=spells.schema)
    pq.write_table(persons, target / "persoon.parquet")
    pq.write_table(spells, target / "verblijfplaats_historie.parquet")
    return {"persoon": 2, "verblijfplaats_historie": len(copies) + 1}


def _land(paths: HubPaths, landing: Path, keystore: KeyStore, source: str, delivery: str, index, **kwargs) -> dict:
    boundary = Boundary(keystore, Vault(landing.parent / f"{landing.name}-vault", keystore))
    raw_dir = paths.raw / source / delivery
    entities = list(SOURCES[source].entities)
    return land_delivery_folder(boundary, raw_dir, landing, source, delivery, entities, index, **kwargs)


def _assert_same_landing(reused: Path, scratch: Path, source: str, delivery: str) -> None:
    for entity in SOURCES[source].entities:
        a = pq.read_table(reused / source / delivery / f"{entity}.parquet")
        b = pq.read_table(scratch / source / delivery / f"{entity}.parquet")
        assert a.schema == b.schema, entity
        assert a.equals(b), f"{source}/{entity}: the reused landing differs from a landing from scratch"


def test_a_corrected_brp_delivery_lands_only_what_changed_and_the_table_from_scratch(world, tmp_path):
    paths, index = world
    keystore = KeyStore(tmp_path / "keys")
    landing = tmp_path / "landing"
    _land(paths, landing, keystore, "brp", FIRST, index, context="ctx")
    fresh_rows = _corrected_brp(paths)

    report = _land(paths, landing, keystore, "brp", NEXT, index, context="ctx")
    _land(paths, tmp_path / "scratch", keystore, "brp", NEXT, index)

    _assert_same_landing(landing, tmp_path / "scratch", "brp", NEXT)
    for entity, changed in fresh_rows.items():
        figures = report["entities"][entity]
        assert figures["reused_from"] == FIRST
        assert figures["rows_in"] - figures["rows_reused"] == changed, entity  # only these passed the boundary
    spells = report["entities"]["verblijfplaats_historie"]
    assert spells["addresses"] == spells["rows_in"] and 0 < spells["resolved"] <= spells["rows_in"]
    # the added person's identifiers went to the vault as they would from scratch
    persons = pq.read_table(paths.raw / "brp" / NEXT / "persoon.parquet")
    added = persons["bsn"][19].as_py()
    vault = Vault(tmp_path / "landing-vault", keystore)
    assert vault.resolve("bsn", Pseudonymiser(keystore, "bsn").linkage_pseudonym(added)) == added


def test_a_changed_context_or_raw_file_lands_everything_anew(world, tmp_path):
    """Key rotation, an erasure and a BAG delivery change the context; a raw file ingested again under the same
    delivery id no longer is the one an earlier landing was made from: no row is reused, and the table is the one
    from scratch under the new key."""
    paths, index = world
    keystore = KeyStore(paths.keys)
    landing = tmp_path / "landing"
    context = reuse_context(paths, "brp")
    _land(paths, landing, keystore, "brp", FIRST, index, context=context)
    _corrected_brp(paths)

    SuppressionList(paths.access).add(
        [
            Pseudonymiser(keystore, "bsn").linkage_pseudonym(
                pq.read_table(paths.raw / "brp" / NEXT / "persoon.parquet")["bsn"][3].as_py()
            )
        ],
        request="AVG-2026-001",
        officer="test",
        ground="art. 17",
    )
    assert reuse_context(paths, "brp") != context  # an erasure: what the vault may hold changed
    keystore.rotate()
    rotated = reuse_context(paths, "brp")
    assert "key:v2" in rotated

    report = _land(paths, landing, keystore, "brp", NEXT, index, context=rotated)
    assert not any("rows_reused" in f for f in report["entities"].values())
    _land(paths, tmp_path / "scratch", keystore, "brp", NEXT, index)
    _assert_same_landing(landing, tmp_path / "scratch", "brp", NEXT)
    assert pq.read_table(landing / "brp" / NEXT / "persoon.parquet")["bsn_psn"][0].as_py().startswith("bsn.v2.")

    # the same delivery id ingested again with other rows: its earlier landing is not reused, FIRST's (same context,
    # its raw file unchanged) is
    _land(paths, landing, keystore, "brp", FIRST, index, context=rotated)
    persons = pq.read_table(paths.raw / "brp" / NEXT / "persoon.parquet")
    pq.write_table(persons.slice(0, persons.num_rows - 1), paths.raw / "brp" / NEXT / "persoon.parquet")
    report = _land(paths, landing, keystore, "brp", NEXT, index, context=rotated)
    assert report["entities"]["persoon"]["reused_from"] == FIRST
    _land(paths, tmp_path / "scratch", keystore, "brp", NEXT, index)
    _assert_same_landing(landing, tmp_path / "scratch", "brp", NEXT)


def test_a_secret_reprovisioned_under_the_same_label_lands_everything_anew(world, tmp_path, monkeypatch):
    """The context names the key's secret by a check value, not only its label: a new RGW_MASTER_KEY under "v1"
    must not let a landing take the old secret's pseudonyms from the landing before it."""
    paths, index = world
    hub = HubPaths(tmp_path / "hub")
    old = boundary_context(hub, "brp")
    monkeypatch.setenv("RGW_MASTER_KEY", "ef" * 32)
    new = boundary_context(hub, "brp")
    assert old.startswith("key:v1:") and new.startswith("key:v1:") and new != old
    assert "cd" * 6 not in old and "ef" * 6 not in new  # a derived check, not the secret

    landing = tmp_path / "landing"
    monkeypatch.setenv("RGW_MASTER_KEY", "cd" * 32)
    _land(paths, landing, KeyStore(tmp_path / "keys-old"), "brp", FIRST, index, context=old)
    _copy_raw(paths, "brp", NEXT)  # the same rows again: everything could be reused under one context
    monkeypatch.setenv("RGW_MASTER_KEY", "ef" * 32)
    keystore = KeyStore(tmp_path / "keys-new")
    report = _land(paths, landing, keystore, "brp", NEXT, index, context=new)
    assert not any(f.get("rows_reused") for f in report["entities"].values())
    bsn = pq.read_table(paths.raw / "brp" / NEXT / "persoon.parquet")["bsn"][0].as_py()
    landed = pq.read_table(landing / "brp" / NEXT / "persoon.parquet")["bsn_psn"][0].as_py()
    assert landed == Pseudonymiser(keystore, "bsn").linkage_pseudonym(bsn)  # the new secret's pseudonym


def test_the_key_check_is_unknown_without_the_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("RGW_MASTER_KEY", raising=False)
    assert KeyStore(tmp_path / "keys", allow_demo_key=False).key_check() == "?"


@pytest.mark.parametrize("source", ["brk", "corporaties", "stedin"])
def test_the_other_snapshot_sources_reuse_alike(world, tmp_path, source):
    """The reuse is the boundary's, not BRP's: the owners, the corporations' tenants and the connections land a
    re-delivery from their previous landing too (every row unchanged here), with the table from scratch."""
    paths, index = world
    keystore = KeyStore(tmp_path / "keys")
    landing = tmp_path / "landing"
    _land(paths, landing, keystore, source, FIRST, index, context="ctx")
    _copy_raw(paths, source, NEXT)
    report = _land(paths, landing, keystore, source, NEXT, index, context="ctx")
    _land(paths, tmp_path / "scratch", keystore, source, NEXT, index)
    _assert_same_landing(landing, tmp_path / "scratch", source, NEXT)
    reused = {e: f["rows_reused"] for e, f in report["entities"].items() if "rows_reused" in f}
    assert reused and all(report["entities"][e]["rows_in"] == n for e, n in reused.items()), report["entities"]


def test_erased_tenants_are_left_out_without_reuse(world, tmp_path):
    """The corporations' tenants are the hub's own records: an erased tenant's rows are left out after the boundary,
    so such a landing never takes rows from an earlier one, and gives the table from scratch."""
    paths, index = world
    keystore = KeyStore(tmp_path / "keys")
    landing = tmp_path / "landing"
    _land(paths, landing, keystore, "corporaties", FIRST, index, context="ctx")
    _copy_raw(paths, "corporaties", NEXT)
    tenants = pq.read_table(paths.raw / "corporaties" / NEXT / "relatie.parquet")
    bsn = next(b for b in tenants["bsn"].to_pylist() if b)
    erased = [Pseudonymiser(keystore, "bsn").linkage_pseudonym(bsn)]
    report = _land(paths, landing, keystore, "corporaties", NEXT, index, suppressed=erased, context="ctx-erased")
    assert not any("rows_reused" in f for f in report["entities"].values()) and report["suppressed_rows"]
    _land(paths, tmp_path / "scratch", keystore, "corporaties", NEXT, index, suppressed=erased)
    _assert_same_landing(landing, tmp_path / "scratch", "corporaties", NEXT)


def test_the_bag_index_is_built_only_when_a_changed_row_needs_it(world, tmp_path, monkeypatch):
    """A re-delivery whose changed rows need no address lookup lands without building the BAG index; one with a
    moved address builds it on first use and resolves as the index built up front does."""
    paths, index = world
    monkeypatch.setattr(landing_assets, "_INDEX_CACHE", {})
    keystore = KeyStore(tmp_path / "keys")
    landing = tmp_path / "landing"
    _land(paths, landing, keystore, "brp", FIRST, index, context="ctx")
    _copy_raw(paths, "brp", NEXT)
    persons = pq.read_table(paths.raw / "brp" / NEXT / "persoon.parquet")
    renamed = pc.binary_join_element_wise(persons["voornamen"], pa.scalar("Corr"), " ")
    pq.write_table(persons.set_column(2, "voornamen", renamed), paths.raw / "brp" / NEXT / "persoon.parquet")
    lazy = bag_index_on_first_use(paths.raw)
    _land(paths, landing, keystore, "brp", NEXT, lazy, context="ctx")
    assert "_built" not in lazy.__dict__  # names changed only: no address looked up

    _corrected_brp(paths)
    report = _land(paths, landing, keystore, "brp", NEXT, lazy, context="ctx")
    assert "_built" in lazy.__dict__ and report["entities"]["verblijfplaats_historie"]["rows_reused"]
    _land(paths, tmp_path / "scratch", keystore, "brp", NEXT, index)
    _assert_same_landing(landing, tmp_path / "scratch", "brp", NEXT)


def _plant(path: Path, column: str, row: int, value: str) -> None:
    """Write `value` into one cell of a landed file (what a boundary bug would leave there)."""
    table = pq.read_table(path)
    values = table[column].to_pylist()
    values[row] = value
    pq.write_table(table.set_column(table.column_names.index(column), column, pa.array(values, pa.string())), path)


def _scan_landing(paths: HubPaths, landing: Path, delivery: str, cache: Path, copied=None) -> list[str]:
    raw = [paths.raw / "brp" / delivery / "persoon.parquet"]
    return sorted(str(f) for f in scan_zone([landing / "brp" / delivery], raw, cache, copied))


def test_the_landing_check_reads_only_fresh_rows_of_reused_columns_and_finds_what_a_whole_scan_finds(
    world, tmp_path, monkeypatch
):
    """A corrected delivery's landing check scans the made columns of its new and changed rows only (the rest are
    copies of the earlier landing, scanned clean under the same question); an identifier in a new row is found, with
    the findings of a scan of the whole file."""
    paths, index = world
    keystore, landing, cache = KeyStore(tmp_path / "keys"), tmp_path / "landing", tmp_path / "scan.json"
    _land(paths, landing, keystore, "brp", FIRST, index, context="ctx")
    assert _scan_landing(paths, landing, FIRST, cache) == []  # the earlier landing's check: clean
    fresh = _corrected_brp(paths)
    copied: dict = {}
    _land(paths, landing, keystore, "brp", NEXT, index, context="ctx", copied=copied)
    assert {e: len(rows.fresh_rows) for e, rows in copied.items()} == fresh
    persons = landing / "brp" / NEXT / "persoon.parquet"
    spells = landing / "brp" / NEXT / "verblijfplaats_historie.parquet"
    _plant(persons, "bsn_psn", int(copied["persoon"].fresh_rows[0]), "999993653")  # a BSN in a new row
    assert "straatnaam" in copied["verblijfplaats_historie"].columns  # kept, and an input of the address
    _plant(spells, "straatnaam", int(copied["verblijfplaats_historie"].fresh_rows[-1]), "bel 06-12345678")
    scans: list = []
    real_scan_file = identifier_scan.scan_file
    monkeypatch.setattr(
        identifier_scan, "scan_file", lambda *a, **k: scans.append(k["copied"]) or real_scan_file(*a, **k)
    )

    by_rows = {landing / "brp" / NEXT / f"{e}.parquet": rows for e, rows in copied.items()}
    found = _scan_landing(paths, landing, NEXT, cache, by_rows)

    assert all(c is not None for c in scans) and len(scans) == 2  # both files: fresh rows of made columns only
    assert found == _scan_landing(paths, landing, NEXT, None)  # the whole files, nothing cached
    assert found == [
        f"{persons}: column 'bsn_psn' holds 1 value(s) that look like bsn",
        f"{spells}: column 'straatnaam' holds 1 value(s) that look like phone",
    ]


@pytest.mark.parametrize("planted", ["after the earlier check", "before the earlier check"])
def test_a_reused_row_carries_no_identifier_the_earlier_check_did_not_see(world, tmp_path, planted):
    """An identifier in the earlier landing (planted after its check passed, or found by it) comes along with the
    reused rows: the earlier file is then not clean in the cache as it is now, so the whole new file is scanned."""
    paths, index = world
    keystore, landing, cache = KeyStore(tmp_path / "keys"), tmp_path / "landing", tmp_path / "scan.json"
    _land(paths, landing, keystore, "brp", FIRST, index, context="ctx")
    earlier = landing / "brp" / FIRST / "persoon.parquet"
    if planted == "before the earlier check":
        _plant(earlier, "bsn_psn", 30, "999993653")
    _scan_landing(paths, landing, FIRST, cache)
    if planted == "after the earlier check":
        _plant(earlier, "bsn_psn", 30, "999993653")
    _corrected_brp(paths)
    copied: dict = {}
    _land(paths, landing, keystore, "brp", NEXT, index, context="ctx", copied=copied)
    assert 30 not in copied["persoon"].fresh_rows  # the row is reused, with the planted value

    by_rows = {landing / "brp" / NEXT / f"{e}.parquet": rows for e, rows in copied.items()}
    found = _scan_landing(paths, landing, NEXT, cache, by_rows)

    assert (
        f"{landing / 'brp' / NEXT / 'persoon.parquet'}: column 'bsn_psn' holds 1 value(s) that look like bsn" in found
    )


def _first_equal_rows(previous: pa.Table, current: pa.Table) -> list[int]:
    """The reference: for each row of `current`, the first equal row of `previous` (nulls equal), or -1."""
    first: dict[tuple, int] = {}
    for i, row in enumerate(zip(*(previous[n].to_pylist() for n in current.column_names), strict=True)):
        first.setdefault(row, i)
    rows = zip(*(current[n].to_pylist() for n in current.column_names), strict=True)
    return [first.get(row, -1) for row in rows]


def test_rows_are_matched_in_place_and_by_value_alike(tmp_path):
    """A re-delivery in the same order is matched in place, a shifted, reordered or duplicated row by its values:
    the same rows are found as the first equal row would give, and a row matched elsewhere has equal values."""
    from pseudonymisation.reuse import match_rows

    previous = pa.table(
        {
            "bsn": ["1", "2", "2", None, "5", "6", "7", "8"],
            "naam": ["a", "b", "b", None, "e", "f", "g", "h"],
            "nummer": pa.array([1, 2, 2, None, 5, 6, 7, 8], pa.int32()),
        }
    )
    pq.write_table(previous, tmp_path / "previous.parquet")
    current = pa.table(
        {
            # in place, in place twice (row 2 equals row 1 too, the first equal row), nulls in place, in place, a
            # changed row (in place of 5), then shifted by one, and a row that was never there
            "bsn": ["1", "2", "2", None, "5", "new", "6", "7", "8", "9"],
            "naam": ["a", "b", "b", None, "e", "n", "f", "g", "h", "i"],
            "nummer": pa.array([1, 2, 2, None, 5, 0, 6, 7, 8, 9], pa.int32()),
        }
    )
    matched = match_rows(tmp_path / "previous.parquet", current)
    reference = _first_equal_rows(previous, current)
    assert [m >= 0 for m in matched] == [r >= 0 for r in reference]
    assert reference == [0, 1, 1, 3, 4, -1, 5, 6, 7, -1]
    assert list(matched) == [0, 1, 2, 3, 4, -1, 5, 6, 7, -1]  # row 2 in place
    for i, m in enumerate(matched):
        if m >= 0:  # another equal row than the first is as good: equal inputs land equal values
            assert previous.slice(int(m), 1).to_pylist() == current.slice(i, 1).to_pylist()
    # a type not compared in place (floats: NaN and -0.0) is matched by value alone, as before
    floats = pa.table({"x": pa.array([0.5, 1.5], pa.float64())})
    pq.write_table(floats, tmp_path / "floats.parquet")
    assert list(match_rows(tmp_path / "floats.parquet", pa.table({"x": [1.5, 0.5, 2.0]}))) == [1, 0, -1]
