-- Dwellings whose owner is registered there: owner-occupied, so not let (the owner entity of a natural person is
-- the same person entity as the BRP resident's).
select distinct b.verblijfsobject_id
from {{ ref('int_bewoningsperioden') }} as b
join {{ ref('stg_linkage__entity_links') }} as p
    on p.source = 'brp' and p.entity = 'persoon' and p.record_key = b.persoon_psn and p.entity_kind = 'persoon'
join {{ ref('int_woningen__eigenaar') }} as e
    on e.verblijfsobject_id = b.verblijfsobject_id and e.eigenaar_id = p.entity_id
where b.is_current
