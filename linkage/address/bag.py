"""The BAG address table the resolver indexes: one row per nummeraanduiding with its street, woonplaats and
the verblijfsobject (or berth, or pitch) it is the main or side address of."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.bag import read_bag


def bag_address_table(folder: Path) -> pa.Table:
    """Join the entity files of one landed (or staged) BAG delivery folder into the address table."""
    f = {
        e: str(Path(folder) / f"{e}.parquet")
        for e in ("nummeraanduiding", "verblijfsobject", "openbare_ruimte", "woonplaats", "ligplaats", "standplaats")
    }
    con = duckdb.connect()
    return con.sql(f"""
        with ao as (
            select hoofdadres_id as num, verblijfsobject_id as ao_id, verblijfsobject_id as vbo
            from read_parquet('{f["verblijfsobject"]}')
            union all
            select unnest(nevenadres_ids), verblijfsobject_id, verblijfsobject_id
            from read_parquet('{f["verblijfsobject"]}')
            union all
            select hoofdadres_id, ligplaats_id, null from read_parquet('{f["ligplaats"]}')
            union all
            select hoofdadres_id, standplaats_id, null from read_parquet('{f["standplaats"]}')
        )
        select n.nummeraanduiding_id, any_value(ao.ao_id) as adresseerbaar_object_id,
               any_value(ao.vbo) as verblijfsobject_id, any_value(o.naam) as straatnaam,
               any_value(o.verkorte_naam) as verkorte_naam, any_value(n.huisnummer) as huisnummer,
               any_value(n.huisletter) as huisletter, any_value(n.huisnummertoevoeging) as huisnummertoevoeging,
               any_value(n.postcode) as postcode, any_value(coalesce(w1.naam, w2.naam)) as woonplaats,
               any_value(n.status) as status
        from read_parquet('{f["nummeraanduiding"]}') n
        left join read_parquet('{f["openbare_ruimte"]}') o on o.openbare_ruimte_id = n.openbare_ruimte_id
        left join read_parquet('{f["woonplaats"]}') w1 on w1.woonplaats_id = n.woonplaats_id
        left join read_parquet('{f["woonplaats"]}') w2 on w2.woonplaats_id = o.woonplaats_id
        left join ao on ao.num = n.nummeraanduiding_id
        group by n.nummeraanduiding_id
        order by n.nummeraanduiding_id
    """).to_arrow_table()


def load_bag_addresses(bag_path: Path, staging_root: Path | None = None) -> pa.Table:
    """Read an LVBAG extract (zip or folder) with the BAG connector and return the address table."""
    result = read_bag(Path(bag_path), staging_root=staging_root)
    try:
        return bag_address_table(result.staging_dir)
    finally:
        import shutil

        shutil.rmtree(result.staging_dir, ignore_errors=True)
