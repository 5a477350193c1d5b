-- Corporation tenants with a running contract at the reference date, and whether each is registered at that dwelling.
with peil as (select '{{ var("peildatum") }}'::date as peildatum),
huurder as (
    select e.verblijfsobject_id, r.persoon_psn, r.relatie_id
    from {{ ref('stg_corporaties__huurovereenkomsten') }} as h
    cross join peil
    join {{ ref('stg_corporaties__eenheden') }} as e on e.eenheid_id = h.eenheid_id
    join {{ ref('stg_corporaties__relaties') }} as r on r.relatie_id = h.relatie_id
    where h.begindatum <= peil.peildatum and (h.einddatum is null or h.einddatum > peil.peildatum)
      and r.soort = 'natuurlijk_persoon' and e.verblijfsobject_id is not null
),
huurder_entiteit as (
    select h.*, el.entity_id
    from huurder as h
    left join {{ ref('stg_linkage__entity_links') }} as el
        on el.source = 'corporaties' and el.entity = 'relatie' and el.record_key = h.relatie_id
        and el.entity_kind = 'persoon'
),
ingeschreven as (
    select b.verblijfsobject_id, b.persoon_psn, el.entity_id
    from {{ ref('int_bewoningsperioden') }} as b
    left join {{ ref('stg_linkage__entity_links') }} as el
        on el.source = 'brp' and el.entity = 'persoon' and el.record_key = b.persoon_psn and el.entity_kind = 'persoon'
    where b.is_current
)
select
    h.verblijfsobject_id,
    count(*) as n_huurders,
    count(*) filter (where i.verblijfsobject_id is null) as n_huurders_niet_ingeschreven
from huurder_entiteit as h
left join ingeschreven as i
    on i.verblijfsobject_id = h.verblijfsobject_id
    and (i.persoon_psn = h.persoon_psn or (h.entity_id is not null and i.entity_id = h.entity_id))
group by h.verblijfsobject_id
