"""Persons and owners resolved to entities across sources, on pseudonymised and encoded data only.

Stages, kept apart as in Splink: (1) exact links on linkage pseudonyms (the same BSN or KvK pseudonym is the same
entity), (2) blocking (a tenant is compared with the persons registered at the dwelling of the contract; a landlord
named in a report with the owner of the reported dwelling, then with every owner of the same name tokens),
(3) comparison of keyed Bloom-filter encodings by Dice, (4) a decision by threshold, (5) entity ids taken from the
strongest stable key (the person's BSN pseudonym, the company's KvK pseudonym, the Kadaster person id), so that ids
stay the same across re-runs and new deliveries. Every link keeps its evidence: method, scores, and the threshold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from pseudonymisation.encodings import as_matrix, dice

LINK_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("entity", pa.string()),
        ("record_key", pa.string()),
        ("entity_kind", pa.string()),
        ("entity_id", pa.string()),
        ("match_probability", pa.float64()),
        ("method", pa.string()),
        ("evidence", pa.string()),
    ]
)
NAME_THRESHOLD = 0.75  # combined Dice of surname, given name and birth date for a tenant without BSN
GLOBAL_NAME_THRESHOLD = 0.9  # ... when compared outside the dwelling, with everyone of the same birth date
PARTY_THRESHOLD = 0.55  # Dice of a written landlord name with the owner of the reported dwelling
PARTY_GLOBAL_THRESHOLD = 0.8  # ... with any owner, when the reported dwelling's owner does not match


@dataclass
class Link:
    source: str
    entity: str
    record_key: str
    entity_kind: str
    entity_id: str
    match_probability: float
    method: str
    evidence: dict

    def row(self) -> dict:
        return {**self.__dict__, "evidence": json.dumps(self.evidence, sort_keys=True)}


def _latest(landing: Path, source: str, entity: str) -> str:
    folders = sorted(p for p in (landing / source).glob("*") if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise FileNotFoundError(f"nothing landed for {source}")
    return str(folders[-1] / f"{entity}.parquet")


def person_entity_id(bsn_psn: str) -> str:
    return "persoon:" + bsn_psn.split(".")[-1][:20]


def link_persons(landing: Path) -> list[Link]:
    """BRP persons, corporation tenants and Kadaster natural persons as person entities."""
    con = duckdb.connect()
    links: list[Link] = []
    brp = con.sql(
        "select bsn_psn, voornamen_bf, geslachtsnaam_bf, geboortedatum_bf "
        f"from read_parquet('{_latest(landing, 'brp', 'persoon')}') where bsn_psn is not null"
    ).to_arrow_table()
    for psn in brp["bsn_psn"].to_pylist():
        links.append(Link("brp", "persoon", psn, "persoon", person_entity_id(psn), 1.0, "bsn_pseudonym", {}))
    known = set(brp["bsn_psn"].to_pylist())
    brk = con.sql(
        f"select persoon_id, bsn_psn from read_parquet('{_latest(landing, 'brk', 'persoon')}') "
        "where persoon_type = 'natuurlijk'"
    ).fetchall()
    for pid, psn in brk:
        if psn:
            links.append(
                Link(
                    "brk",
                    "persoon",
                    pid,
                    "persoon",
                    person_entity_id(psn),
                    1.0,
                    "bsn_pseudonym",
                    {"in_brp": psn in known},
                )
            )
    relaties = _latest(landing, "corporaties", "relatie")
    contracts = _latest(landing, "corporaties", "huurovereenkomst")
    contract_rel = _latest(landing, "corporaties", "huurovereenkomst_relatie")
    units = _latest(landing, "corporaties", "eenheid")
    tenants = (
        con.sql(f"""
        select r.relatie_id, r.bsn_psn, r.voornaam_bf, r.achternaam_bf, r.geboortedatum_bf,
               any_value(e.adres_verblijfsobject_id) as vbo
        from read_parquet('{relaties}') r
        left join read_parquet('{contract_rel}') hr on hr.relatie_id = r.relatie_id
        left join read_parquet('{contracts}') h on h.huurovereenkomst_id = hr.huurovereenkomst_id
        left join read_parquet('{units}') e on e.eenheid_id = h.eenheid_id
        where r.soort = 'natuurlijk_persoon'
        group by all
    """)
        .to_arrow_table()
        .to_pylist()
    )
    residents = (
        con.sql(f"""
        select s.adres_verblijfsobject_id as vbo, p.bsn_psn, p.voornamen_bf, p.geslachtsnaam_bf, p.geboortedatum_bf
        from read_parquet('{_latest(landing, "brp", "verblijfplaats_historie")}') s
        join read_parquet('{_latest(landing, "brp", "persoon")}') p on p.bsn_psn = s.bsn_psn
        where s.is_current and s.adres_verblijfsobject_id is not null
    """)
        .to_arrow_table()
        .to_pylist()
    )
    by_vbo: dict[str, list[dict]] = {}
    for r in residents:
        by_vbo.setdefault(r["vbo"], []).append(r)
    by_dob: dict[bytes, list[dict]] = {}
    for r in brp.to_pylist():
        if r["geboortedatum_bf"] is not None:
            by_dob.setdefault(r["geboortedatum_bf"], []).append(r)
    for t in tenants:
        if t["bsn_psn"]:
            links.append(
                Link(
                    "corporaties",
                    "relatie",
                    t["relatie_id"],
                    "persoon",
                    person_entity_id(t["bsn_psn"]),
                    1.0,
                    "bsn_pseudonym",
                    {"in_brp": t["bsn_psn"] in known},
                )
            )
            continue
        best = _best_person(t, by_vbo.get(t["vbo"], []))
        block = "registered at the contract's dwelling"
        if best is None and t["geboortedatum_bf"] is not None:
            # A tenant may be registered elsewhere (the signal itself): compare with everyone of the same birth date.
            best = _best_person(t, by_dob.get(t["geboortedatum_bf"], []), threshold=GLOBAL_NAME_THRESHOLD)
            block = "same encoded birth date anywhere"
        if best is not None:
            score, cand, parts = best
            links.append(
                Link(
                    "corporaties",
                    "relatie",
                    t["relatie_id"],
                    "persoon",
                    person_entity_id(cand["bsn_psn"]),
                    round(score, 3),
                    "encoded_names",
                    {**parts, "block": block},
                )
            )
        else:
            links.append(
                Link(
                    "corporaties",
                    "relatie",
                    t["relatie_id"],
                    "persoon",
                    f"relatie:{t['relatie_id']}",
                    1.0,
                    "no_match",
                    {"block_size": len(by_vbo.get(t["vbo"], []))},
                )
            )
    return links


def _best_person(t: dict, candidates: list[dict], threshold: float = NAME_THRESHOLD) -> tuple[float, dict, dict] | None:
    if not candidates:
        return None
    n = len(candidates)

    def m(values, nbytes):
        return as_matrix(values, nbytes)

    sur = dice(m([t["achternaam_bf"]] * n, 64), m([c["geslachtsnaam_bf"] for c in candidates], 64))
    giv = dice(m([t["voornaam_bf"]] * n, 64), m([c["voornamen_bf"] for c in candidates], 64))
    dob = dice(m([t["geboortedatum_bf"]] * n, 32), m([c["geboortedatum_bf"] for c in candidates], 32))
    weights = np.array([0.5, 0.3, 0.2])
    scores = np.stack([sur, giv, dob], axis=1)
    present = ~np.isnan(scores)
    combined = np.where(present, scores, 0).dot(weights) / np.maximum(present.astype(float).dot(weights), 1e-9)
    i = int(np.nanargmax(combined))
    if combined[i] < threshold:
        return None
    parts = {
        "dice_achternaam": _r(sur[i]),
        "dice_voornaam": _r(giv[i]),
        "dice_geboortedatum": _r(dob[i]),
        "threshold": threshold,
    }
    return float(combined[i]), candidates[i], parts


def _r(x: float) -> float | None:
    return None if np.isnan(x) else round(float(x), 3)


def owner_entity_id(persoon_id: str, bsn_psn: str | None, kvk_psn: str | None) -> str:
    if bsn_psn:
        return person_entity_id(bsn_psn)
    if kvk_psn:
        return "bedrijf:" + kvk_psn.split(".")[-1][:20]
    return f"brk:{persoon_id}"


def link_owners(landing: Path) -> list[Link]:
    """Kadaster owners as owner entities, and the landlords named in reports and cases linked to them."""
    con = duckdb.connect()
    owners = (
        con.sql(f"""
        select p.persoon_id, p.bsn_psn, p.kvk_nummer_psn, p.partij_naam_bf,
               list(distinct a.adres_verblijfsobject_id) as vbos
        from read_parquet('{_latest(landing, "brk", "persoon")}') p
        left join read_parquet('{_latest(landing, "brk", "zakelijk_gerechtigde")}') z
            on z.persoon_id = p.persoon_id and z.type = 'eigenaar'
        left join read_parquet('{_latest(landing, "brk", "kadastraal_object_adres")}') a
            on a.kadastraal_object_id = z.kadastraal_object_id
        group by all
    """)
        .to_arrow_table()
        .to_pylist()
    )
    links: list[Link] = []
    owner_of: dict[str, list[int]] = {}
    for i, o in enumerate(owners):
        o["entity_id"] = owner_entity_id(o["persoon_id"], o["bsn_psn"], o["kvk_nummer_psn"])
        links.append(Link("brk", "persoon", o["persoon_id"], "eigenaar", o["entity_id"], 1.0, "kadaster_owner", {}))
        for v in o["vbos"] or []:
            if v:
                owner_of.setdefault(v, []).append(i)
    all_names = as_matrix([o["partij_naam_bf"] for o in owners], 64)
    named = []
    for source_entity, column, key in (
        ("melding", "verhuurder_genoemd_bf", "melding_id"),
        ("zaak", "eigenaar_genoemd_bf", "zaak_id"),
    ):
        rows = con.sql(
            f"select {key} as k, {column} as bf, adres_verblijfsobject_id as vbo "
            f"from read_parquet('{_latest(landing, 'meldpunten', source_entity)}') where {column} is not null"
        ).fetchall()
        named += [(source_entity, k, bf, vbo) for k, bf, vbo in rows]
    for source_entity, key, bf, vbo in named:
        local = owner_of.get(vbo, [])
        link = None
        if local:
            scores = dice(as_matrix([bf] * len(local), 64), all_names[local])
            j = int(np.nanargmax(np.nan_to_num(scores, nan=-1)))
            if scores[j] >= PARTY_THRESHOLD:
                o = owners[local[j]]
                link = Link(
                    "meldpunten",
                    source_entity,
                    key,
                    "eigenaar",
                    o["entity_id"],
                    round(float(scores[j]), 3),
                    "encoded_name_owner_of_dwelling",
                    {
                        "dice_partij_naam": _r(scores[j]),
                        "threshold": PARTY_THRESHOLD,
                        "block": "owner of the reported dwelling",
                    },
                )
        if link is None and owners:
            scores = dice(np.repeat(as_matrix([bf], 64), len(owners), axis=0), all_names)
            j = int(np.nanargmax(np.nan_to_num(scores, nan=-1)))
            if scores[j] >= PARTY_GLOBAL_THRESHOLD:
                o = owners[j]
                link = Link(
                    "meldpunten",
                    source_entity,
                    key,
                    "eigenaar",
                    o["entity_id"],
                    round(float(scores[j]), 3),
                    "encoded_name_any_owner",
                    {"dice_partij_naam": _r(scores[j]), "threshold": PARTY_GLOBAL_THRESHOLD, "block": "all owners"},
                )
        if link is not None:
            links.append(link)
    return links


def entity_links_table(landing: Path) -> pa.Table:
    links = link_persons(landing) + link_owners(landing)
    return pa.Table.from_pylist([lk.row() for lk in links], schema=LINK_SCHEMA)
