"""Property-based fuzzing of every connector and the identifier checks (hypothesis).

Each example takes a real published sample file or a file of the synthetic tiny deliveries, mutates it the way
deliveries break in practice (truncated at any byte, lines deleted or duplicated, another encoding, another
delimiter, a BOM, NUL bytes, a 1 MB field, random bytes, and combinations) and reads the delivery through the
connector, as the ingest asset and `rgw ingest` do (`SourceSpec.read`, with the delivery guard). The invariant:

- either the connector refuses with a DeliveryError that names the file and the place, leaving nothing behind in
  staging,
- or every entity reconciles (records in = clean + quarantined) and lands, and the landed Parquet files hold exactly
  the counted clean and quarantined rows;
- never another exception (a traceback), never a record lost.

In CI the examples are fixed (derandomized, `FUZZ_EXAMPLES` per connector). A longer run:
`RGW_FUZZ_EXAMPLES=2000 .venv/bin/pytest -q tests/test_fuzz_connectors.py`; with `RGW_FUZZ_REPORT=out.json` the
outcomes per connector (inputs tried, refused, landed) are written there.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import identifiers
from connectors.delivery import DeliveryError, land_delivery
from connectors.registry import SOURCES

FUZZ_EXAMPLES = int(os.environ.get("RGW_FUZZ_EXAMPLES", "30"))
SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize="RGW_FUZZ_EXAMPLES" not in os.environ,  # fixed examples in CI, fresh ones in a long run
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
HEAD_LINES = 120  # large seed files are cut to their first lines (still real content), so an example stays fast
OUTCOMES: dict[str, Counter] = defaultdict(Counter)


def _head(data: bytes, lines: int = HEAD_LINES) -> bytes:
    return b"".join(data.splitlines(keepends=True)[:lines])


def _seeds(real: Path, synth: Path) -> dict[str, list[tuple[dict[str, bytes], str]]]:
    """Per source: deliveries as {file name: bytes} and the name of the file to mutate."""

    def real_file(rel: str, cut: bool = False) -> dict[str, bytes]:
        data = (real / rel).read_bytes()
        return {Path(rel).name: _head(data) if cut else data}

    def synth_files(source: str, *names: str, cut: tuple[str, ...] = ()) -> dict[str, bytes]:
        folder = next((synth / source).iterdir())
        return {n: _head((folder / n).read_bytes()) if n in cut else (folder / n).read_bytes() for n in names}

    stedin = synth_files("stedin", "stedin_aansluitingen.csv", "stedin_verbruik.csv", cut=("stedin_verbruik.csv",))
    melding = synth_files("meldpunten", "meldingen.json", "zaken.csv", "vergunningen.csv")
    vera = synth_files("corporaties", "vera_eenheden.json", "vera_huurovereenkomsten.json", "vera_relaties.json")
    return {
        "bag": [
            (real_file("bag/nlextract/0221NUM15092020-000001.xml"), "0221NUM15092020-000001.xml"),
            (real_file("bag/nlextract/0221PND15092020-000001.xml"), "0221PND15092020-000001.xml"),
            (real_file("bag/gdal/vbo.xml"), "vbo.xml"),
            (synth_files("bag", "0599LIG01112026-000001.xml"), "0599LIG01112026-000001.xml"),
        ],
        "brp": [
            (
                real_file("brp/20220502_Testset_persoonslijsten_proefomgeving_GBA-V.csv", cut=True),
                "20220502_Testset_persoonslijsten_proefomgeving_GBA-V.csv",
            ),
            (real_file("brp/personen-responses/999999333-response_01.json"), "999999333-response_01.json"),
            (
                synth_files("brp", "brp_persoonslijsten.csv", cut=("brp_persoonslijsten.csv",)),
                "brp_persoonslijsten.csv",
            ),
        ],
        "brk": [
            (real_file("brk/testcases.json"), "testcases.json"),
            (synth_files("brk", "brk_bulk.json"), "brk_bulk.json"),
        ],
        "stedin": [
            (real_file("stedin/zeeland-2013.csv", cut=True), "zeeland-2013.csv"),
            (real_file("stedin/zeeland-2023.csv", cut=True), "zeeland-2023.csv"),
            (stedin, "stedin_aansluitingen.csv"),
            (stedin, "stedin_verbruik.csv"),
        ],
        "corporaties": [
            (real_file("corporaties/eenheden/zelfstandig_20002000126.json"), "zelfstandig_20002000126.json"),
            (vera, "vera_eenheden.json"),
            (vera, "vera_relaties.json"),
        ],
        "meldpunten": [(melding, "meldingen.json"), (melding, "zaken.csv"), (melding, "vergunningen.csv")],
        "gebieden": [(synth_files("gebieden", "buurten.geojson"), "buurten.geojson")],
    }


@pytest.fixture(scope="module")
def seeds(real_fixtures, tmp_path_factory) -> dict[str, list[tuple[dict[str, bytes], str]]]:
    from synth import generate

    out = tmp_path_factory.mktemp("fuzz-synth")
    generate("tiny", 7, out)
    return _seeds(real_fixtures, out / "incoming")


# --- mutations ---------------------------------------------------------------------------------------------------


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


KINDS = ["truncate", "delete_line", "duplicate_line", "encoding", "delimiter", "bom", "nul", "big_field", "random"]


@st.composite
def recipe(draw) -> tuple:
    """One mutation as a small recipe (kind and arguments), so a failing example prints short and replays exactly;
    positions are drawn as fractions of the file because earlier mutations change its length."""
    kind = draw(st.sampled_from(KINDS))
    where = draw(st.floats(0, 1))
    if kind == "encoding":
        return kind, draw(st.sampled_from(["latin-1", "cp1252", "utf-16", "utf-16-le", "utf-32"]))
    if kind == "delimiter":
        return kind, draw(st.sampled_from([(";", ","), (";", "\t"), (",", ";"), ('"', "'"), (":", ";")]))
    if kind == "bom":
        return kind, draw(st.sampled_from(["\ufeff-utf8", "utf16-le", "utf16-be"]))
    if kind == "nul":
        return kind, where, draw(st.integers(1, 8))
    if kind == "big_field":
        return kind, where, draw(st.sampled_from(["A", "9", " ", "é"]))
    if kind == "random":
        return kind, where, draw(st.binary(min_size=1, max_size=64)), draw(st.integers(0, 64))
    return kind, where


BOMS = {"\ufeff-utf8": b"\xef\xbb\xbf", "utf16-le": b"\xff\xfe", "utf16-be": b"\xfe\xff"}


def apply(data: bytes, step: tuple) -> bytes:
    kind, *args = step
    n = len(data)
    if kind == "encoding":
        return data.decode("utf-8", errors="replace").encode(args[0], errors="replace")
    if kind == "delimiter":
        return data.replace(args[0][0].encode(), args[0][1].encode())
    if kind == "bom":
        return BOMS[args[0]] + data
    at = min(int(args[0] * n), n)
    if kind == "truncate":
        return data[: min(at, max(n - 1, 0))]
    if kind in ("delete_line", "duplicate_line"):
        lines = data.splitlines(keepends=True) or [b""]
        i = min(int(args[0] * len(lines)), len(lines) - 1)
        lines[i : i + 1] = [] if kind == "delete_line" else [lines[i], lines[i]]
        return b"".join(lines)
    if kind == "nul":
        return data[:at] + b"\x00" * args[1] + data[at:]
    if kind == "big_field":
        return data[:at] + args[1].encode() * (1 << 20) + data[at:]
    return data[:at] + args[1] + data[at + args[2] :]


def mutate(data: bytes, steps: list[tuple]) -> bytes:
    for step in steps:
        data = apply(data, step)
    return data


# --- the invariant -----------------------------------------------------------------------------------------------


# Files where one line is one record: for these the records counted in are checked against the file itself, so a
# record skipped without being counted cannot hide behind counts that reconcile.
ONE_LINE_ONE_RECORD = {
    ("stedin", "stedin_aansluitingen.csv"): "aansluiting",
    ("stedin", "stedin_verbruik.csv"): "verbruik",
    ("meldpunten", "vergunningen.csv"): "vergunning",
    ("meldpunten", "zaken.csv"): "zaak",
}


def records_in_file(data: bytes) -> int | None:
    """Data lines of a plain `;` CSV (header excluded); None where a line is not simply a record (quotes, CR, not
    UTF-8), so the count would be a guess."""
    if b'"' in data or b"\r" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = [ln for ln in data.split(b"\n") if ln.strip()]
    return max(len(lines) - 1, 0)


def read_and_check(source: str, delivery: Path, work: Path, target: str | None = None) -> str:
    """Read one delivery and check the invariant; returns "refused" or "landed" (anything else raises)."""
    staging = work / "staging"
    try:
        result = SOURCES[source].read(delivery, delivery_id="fuzz", staging_root=staging)
    except DeliveryError as e:
        assert Path(e.file).name, e
        assert Path(e.file).resolve().is_relative_to(delivery.resolve()), f"names a file outside the delivery: {e}"
        assert e.place.strip(), f"no place named: {e}"
        assert not staging.exists() or not any(staging.iterdir()), "a refused delivery left files in staging"
        return "refused"
    for name, batch in result.entities.items():
        assert batch.reconciles, f"{source}/{name}: {batch.records_in} in, {batch.clean_rows}+{batch.quarantined_rows}"
    entity = ONE_LINE_ONE_RECORD.get((source, target or ""))
    if entity is not None:
        expected = records_in_file((delivery / target).read_bytes())
        if expected is not None:
            assert result.entities[entity].records_in == expected, f"{target}: {expected} lines, counted otherwise"
    landed = land_delivery(result, work / "raw")
    for name, batch in result.entities.items():
        assert pq.ParquetFile(landed / f"{name}.parquet").metadata.num_rows == batch.clean_rows
        assert pq.ParquetFile(landed / f"{name}.quarantine.parquet").metadata.num_rows == batch.quarantined_rows
    return "landed"


def _report() -> None:
    out = os.environ.get("RGW_FUZZ_REPORT")
    if out:
        Path(out).write_text(json.dumps({s: dict(c) for s, c in sorted(OUTCOMES.items())}, indent=2))


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_mutated_delivery_is_refused_clearly_or_lands_whole(source, seeds):
    cases = seeds[source]

    @SETTINGS
    @given(data=st.data())
    def fuzz(data):
        files, target = cases[data.draw(st.integers(0, len(cases) - 1), label="seed")]
        steps = data.draw(st.lists(recipe(), min_size=1, max_size=3), label="mutations")
        mutated_bytes = mutate(files[target], steps)
        with tempfile.TemporaryDirectory(prefix="rgw-fuzz-") as tmp:
            work = Path(tmp)
            delivery = work / "incoming" / "fuzz"
            delivery.mkdir(parents=True)
            for name, content in files.items():
                (delivery / name).write_bytes(mutated_bytes if name == target else content)
            outcome = read_and_check(source, delivery, work, target)
            shutil.rmtree(work / "raw", ignore_errors=True)
        OUTCOMES[source]["tried"] += 1
        OUTCOMES[source][outcome] += 1

    fuzz()
    _report()
    assert OUTCOMES[source]["tried"] >= 1


# Kadaster's testcases.json is real but not response data: refused as it is, so its mutations must stay refused.
REFUSED_SEEDS = {("brk", "testcases.json")}


def test_every_unmutated_seed_lands(seeds, tmp_path):
    """The seeds themselves are good deliveries, so what the mutations break is what the fuzzing tests."""
    for source, cases in seeds.items():
        for i, (files, target) in enumerate(cases):
            if (source, target) in REFUSED_SEEDS:
                continue
            delivery = tmp_path / source / str(i) / "fuzz"
            delivery.mkdir(parents=True)
            for name, content in files.items():
                (delivery / name).write_bytes(content)
            assert read_and_check(source, delivery, tmp_path / source / str(i), target) == "landed", (source, i)


# --- the identifier checks ---------------------------------------------------------------------------------------

CHECKS = [
    identifiers.is_valid_bsn,
    identifiers.is_valid_rsin,
    identifiers.is_valid_a_nummer,
    identifiers.is_valid_ean18,
    identifiers.is_valid_gln,
    identifiers.is_valid_bag_id,
    identifiers.is_valid_woonplaats_id,
    identifiers.is_valid_kvk,
]
TEXT = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.from_regex(r"\A[0-9 .\-]{0,20}\Z"),
    st.text(alphabet="0123456789", min_size=8, max_size=18),
    st.text(alphabet="٠١٢٣٤٥٦٧٨٩0123456789", min_size=9, max_size=10),  # other scripts' digits
)


@settings(max_examples=FUZZ_EXAMPLES * 20, derandomize="RGW_FUZZ_EXAMPLES" not in os.environ, database=None)
@given(value=TEXT)
def test_identifier_checks_answer_yes_or_no_for_any_text(value):
    for check in CHECKS:
        assert check(value) in (True, False), check.__name__
    postcode = identifiers.normalise_postcode(value)
    assert postcode is None or (len(postcode) == 6 and postcode[:4].isdigit())
    for parse in (identifiers.parse_gba_date, identifiers.parse_iso_date):
        parse(value)  # None or a partial date, never an exception


@settings(max_examples=FUZZ_EXAMPLES * 10, derandomize="RGW_FUZZ_EXAMPLES" not in os.environ, database=None)
@given(body=st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_a_bsn_with_one_digit_changed_fails_the_eleven_test(body):
    """Every 9-digit number passing the 11-test stops passing when one digit changes (the test catches typos)."""
    candidates = [body + d for d in "0123456789" if identifiers.is_valid_bsn(body + d)]
    for bsn in candidates:
        for i in range(9):
            for d in "0123456789":
                typo = bsn[:i] + d + bsn[i + 1 :]
                if typo != bsn:
                    assert not identifiers.is_valid_bsn(typo)
