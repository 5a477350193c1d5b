"""A synthetic Rotterdam: deliveries of every source in its real format, and the truth behind them.

`generate(scale, seed, out)` draws one world (synth/world.py), renders each registry's view of it into
`out/incoming/<source>/<delivery>/` (delivery 20261101, "today" 2026-11-01; gebieden under 2026/), each folder with
a `_READY` marker, and writes `out/ground_truth/*.parquet`: who and what every record really is, and which abuses
were planted where. The pipeline never reads the ground truth; tests and benchmarks score against it. Same scale and
seed, same bytes. Scales: tiny (one buurt, ~300 dwellings), focus (the six buurten of the five focus areas, ~35k),
city (focus plus 74 synthetic buurten BU059980xx-BU059992xx, ~330k addresses).

Ground truth (all string columns unless said otherwise):
- persons.parquet: source, entity, source_key, true_person_id. BRP persoon (key BSN), BRK persoon (persoon
  identificatie), VERA relatie (id), and private landlords named in meldingen (uuid) and zaken (zaak_id).
- owners.parquet: source, entity, source_key, true_owner_id, owner_kind (person | company; corporations count as
  company). BRK persoon, and landlords named in meldingen and zaken.
- addresses.parquet: source, entity, source_key, address_text_as_written, true_nummeraanduiding_id,
  true_verblijfsobject_id, for every address occurrence: BRP spell ("bsn|volgnummer", 0 = current), BRK object address
  ("object id|0") and owner woonadres (persoon id), Stedin connection (EAN), VERA eenheid (id), melding (uuid), zaak
  (zaak_id), vergunning (vergunning_id). True ids are empty where the address lies outside the area.
- planted_invalid.parquet: source, file, source_key, reason_code: the records planted bad on purpose (one BSN failing
  the 11-proef, one EAN with a wrong check digit, one melding with an unknown onderwerp).
- abuses.parquet: verblijfsobject_id, abuse, owner_id, detail, buurtcode: the planted cases (see world.ABUSES).
- borderline.parquet: verblijfsobject_id, indicator, side, detail: dwellings just over ("boven") and just under
  ("onder") an indicator's threshold (synth/borderline.py).
- dwellings.parquet: per verblijfsobject its nummeraanduiding, buurtcode, gebruiksdoel, woning (bool), owner_id,
  owner_kind, corporation (bool), vacant (bool), n_registered and n_residents_true (int), oppervlakte (int), permit.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

DELIVERY = "20261101"


def generate(scale: str, seed: int, out: Path) -> dict[str, Any]:
    from synth import borderline
    from synth.world import ABUSES, build
    from synth.write_bag import write_bag
    from synth.write_reports import write_gebieden, write_meldpunten
    from synth.write_sources import Truth, write_brk, write_brp, write_stedin, write_vera

    out = Path(out)
    world = build(scale, seed)
    truth = Truth()
    incoming = out / "incoming"

    def rng(name: str) -> random.Random:
        return random.Random(f"rgw-synth/{scale}/{seed}/{name}")

    summary: dict[str, Any] = {"scale": scale, "seed": seed, "delivery": DELIVERY}
    summary["bag"] = write_bag(world, incoming / "bag" / DELIVERY)
    summary["gebieden"] = write_gebieden(world, incoming / "gebieden" / "2026")
    summary["brp"] = write_brp(world, incoming / "brp" / DELIVERY, rng("brp"), truth)
    summary["brk"] = write_brk(world, incoming / "brk" / DELIVERY, rng("brk"), truth)
    summary["stedin"] = write_stedin(world, incoming / "stedin" / DELIVERY, rng("stedin"), truth)
    summary["corporaties"] = write_vera(world, incoming / "corporaties" / DELIVERY, rng("vera"), truth)
    summary["meldpunten"] = write_meldpunten(world, incoming / "meldpunten" / DELIVERY, rng("meldpunten"), truth)
    for source in ("bag", "brp", "brk", "stedin", "corporaties", "meldpunten"):
        (incoming / source / DELIVERY / "_READY").write_text("")
    (incoming / "gebieden" / "2026" / "_READY").write_text("")

    gt = out / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    pq.write_table(truth.persons.to_arrow(), gt / "persons.parquet")
    pq.write_table(truth.owners.to_arrow(), gt / "owners.parquet")
    pq.write_table(truth.addresses.to_arrow(), gt / "addresses.parquet")
    pq.write_table(truth.invalid.to_arrow(), gt / "planted_invalid.parquet")
    pq.write_table(truth.targets.to_arrow(), gt / "programme_targets.parquet")
    abuses = [
        {
            "verblijfsobject_id": d.vbo_id,
            "abuse": a,
            "owner_id": d.owner.oid if d.owner else None,
            "detail": d.details.get(a),
            "buurtcode": d.buurt.code,
        }
        for d in world.dwellings
        for a in d.abuses
    ]
    _write(gt / "abuses.parquet", abuses, ["verblijfsobject_id", "abuse", "owner_id", "detail", "buurtcode"])
    _write(gt / "borderline.parquet", borderline.rows(world.dwellings), list(borderline.COLUMNS))
    dwellings = [
        {
            "verblijfsobject_id": d.vbo_id,
            "nummeraanduiding_id": d.num_id,
            "buurtcode": d.buurt.code,
            "gebruiksdoel": d.gebruiksdoel,
            "woning": d.woning,
            "owner_id": d.owner.oid if d.owner else None,
            "owner_kind": d.owner.kind if d.owner else None,
            "corporation": d.corporation,
            "vacant": d.vacant,
            "n_registered": len(d.registered),
            "n_residents_true": 0 if d.vacant else len(d.registered) + d.hidden_occupants,
            "oppervlakte": d.oppervlakte,
            "permit": d.permit,
        }
        for d in world.dwellings
    ]
    _write(gt / "dwellings.parquet", dwellings, list(dwellings[0]))
    summary["ground_truth"] = {
        "persons": len(truth.persons),
        "owners": len(truth.owners),
        "addresses": len(truth.addresses),
        "planted_invalid": len(truth.invalid),
    }
    summary["abuses"] = {a: sum(1 for x in abuses if x["abuse"] == a) for a in ABUSES}
    summary["residents"] = sum(1 for p in world.persons if p.home is not None)
    summary["dwellings"] = sum(1 for d in world.dwellings if d.woning)
    return summary


def _write(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    table = (
        pa.table({c: [r.get(c) for r in rows] for c in columns})
        if rows
        else pa.table({c: pa.array([], pa.string()) for c in columns})
    )
    pq.write_table(table, path)
