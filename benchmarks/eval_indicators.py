"""Recall and precision of each indicator against the synthetic ground truth of a demo run (`RGW_DATA`).

Truth per indicator: the dwellings where the generator planted that abuse; for overcrowding every dwelling the
synthetic world holds with four or more registered on under 12 m2 each; for vacancy also the dwellings that are vacant
in the synthetic world; for turnover also the labour-migrant dwellings where people came and went; for the recurring
owner every dwelling of a planted owner; for repeated reports the abuses for which reports were planted (rent,
overcrowding, labour migrants).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import duckdb

INDICATORS = {
    "ind_overbewoning": ["overbewoning", "_overcrowded_world"],
    "ind_niet_ingeschreven": ["niet_ingeschreven"],
    "ind_leegstand": ["leegstand", "_vacant"],
    "ind_verloop": ["verloop", "arbeidsmigranten_contract"],
    "ind_herhaalde_meldingen": ["huur_te_hoog", "overbewoning", "arbeidsmigranten_contract"],
    "ind_recidiverende_eigenaar": ["_owner_of_recidiverende_eigenaar"],
    "ind_zonder_vergunning": ["verhuur_zonder_vergunning"],
    "ind_arbeidsmigranten": ["arbeidsmigranten_contract"],
}


def evaluate(data: Path) -> dict:
    con = duckdb.connect(str(data / "warehouse" / "rgw.duckdb"), read_only=True)
    gt = data / "ground_truth"
    con.execute(f"create temp view abuses as select * from read_parquet('{gt / 'abuses.parquet'}')")
    con.execute(f"create temp view dwellings as select * from read_parquet('{gt / 'dwellings.parquet'}')")
    out = {}
    for indicator, kinds in INDICATORS.items():
        parts = [f"select verblijfsobject_id from abuses where abuse = '{k}'" for k in kinds if not k.startswith("_")]
        if "_overcrowded_world" in kinds:  # in the synthetic world: four or more registered, under 12 m2 each
            parts.append(
                "select verblijfsobject_id from dwellings where woning and n_registered >= 4 "
                "and oppervlakte < 12 * n_registered"
            )
        if "_vacant" in kinds:
            parts.append("select verblijfsobject_id from dwellings where vacant and woning")
        if "_owner_of_recidiverende_eigenaar" in kinds:
            parts.append(
                "select d.verblijfsobject_id from dwellings d join abuses a on a.owner_id = d.owner_id "
                "and a.abuse = 'recidiverende_eigenaar' where d.woning"
            )
        truth = " union ".join(parts)
        tp, fired, positives = con.execute(f"""
            with t as ({truth}), f as (select verblijfsobject_id from woning_indicatoren where {indicator})
            select (select count(*) from f where verblijfsobject_id in (select * from t)),
                   (select count(*) from f), (select count(distinct verblijfsobject_id) from t
                   where verblijfsobject_id in (select verblijfsobject_id from woning_indicatoren))""").fetchall()[0]
        out[indicator] = {
            "recall": round(tp / positives, 3) if positives else None,
            "precision": round(tp / fired, 3) if fired else None,
            "fired": fired,
            "truth": positives,
        }
    con.close()
    return out


if __name__ == "__main__":
    data = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("RGW_DATA", "data"))
    json.dump(evaluate(data), sys.stdout, indent=2)
    print()
