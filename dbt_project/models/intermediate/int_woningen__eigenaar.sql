-- The owner of each dwelling: the owner entity holding the largest share of the eigendom right in the BRK, and
-- whether a housing corporation lets it.
with recht as (
    select o.verblijfsobject_id, z.persoon_id, z.aandeel_teller, z.aandeel_noemer, z.aanvangsdatum
    from {{ ref('stg_brk__objecten') }} as o
    join {{ ref('stg_brk__zakelijk_gerechtigden') }} as z on z.kadastraal_object_id = o.kadastraal_object_id
    where z.recht = 'eigenaar' and o.verblijfsobject_id is not null
),
met_entiteit as (
    select r.*, coalesce(e.entity_id, 'brk:' || r.persoon_id) as eigenaar_id, p.persoon_type
    from recht as r
    left join {{ ref('stg_linkage__entity_links') }} as e
        on e.source = 'brk' and e.entity = 'persoon' and e.record_key = r.persoon_id and e.entity_kind = 'eigenaar'
    left join {{ ref('stg_brk__personen') }} as p on p.persoon_id = r.persoon_id
),
corporatie as (
    select distinct verblijfsobject_id from {{ ref('stg_corporaties__eenheden') }} where verblijfsobject_id is not null
)
select
    coalesce(m.verblijfsobject_id, c.verblijfsobject_id) as verblijfsobject_id,
    m.eigenaar_id,
    m.persoon_type as eigenaar_soort,
    m.aanvangsdatum as eigenaar_sinds,
    c.verblijfsobject_id is not null as is_corporatiewoning
from (
    select * from met_entiteit
    qualify row_number() over (
        partition by verblijfsobject_id
        order by coalesce(aandeel_teller::double / nullif(aandeel_noemer, 0), 1) desc, eigenaar_id
    ) = 1
) as m
full outer join corporatie as c on c.verblijfsobject_id = m.verblijfsobject_id
