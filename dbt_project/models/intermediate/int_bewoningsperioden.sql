-- Residence spells per dwelling from the BRP history. The verblijfsobject comes from the BRP's own BAG reference,
-- or else from address resolution of the spell's address.
select
    s.persoon_psn,
    s.volgnummer,
    s.is_current,
    s.datum_aanvang,
    coalesce(s.datum_einde, case when not s.is_current then s.datum_aanvang end) as datum_einde,
    coalesce(s.verblijfsobject_id, l.verblijfsobject_id) as verblijfsobject_id,
    case when s.verblijfsobject_id is not null then 'brp_bag_id' else l.method end as koppelmethode
from {{ ref('stg_brp__verblijfplaatsen') }} as s
left join {{ ref('stg_linkage__address_links') }} as l
    on l.source = 'brp' and l.entity = 'verblijfplaats_historie' and l.record_key = s.record_key
where s.verblijfplaats_type is null or s.verblijfplaats_type = 'Adres'
