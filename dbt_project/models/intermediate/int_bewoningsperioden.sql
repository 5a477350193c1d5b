-- Residence spells per dwelling from the BRP history. The verblijfsobject comes from the BRP's own BAG reference,
-- or else from address resolution of the spell's address.
select
    s.persoon_psn,
    s.volgnummer,
    s.is_current,
    s.datum_aanvang,
    coalesce(s.datum_einde, case when not s.is_current then s.datum_aanvang end) as datum_einde,
    s.verblijfsobject_id,
    s.adres_methode as koppelmethode
from {{ ref('stg_brp__verblijfplaatsen') }} as s
where s.verblijfplaats_type is null or s.verblijfplaats_type = 'Adres'
