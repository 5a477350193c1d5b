-- Residence spells per dwelling from the BRP history (pseudonymous persons).
select persoon_psn, volgnummer, verblijfsobject_id, datum_aanvang, datum_einde, is_current, koppelmethode
from {{ ref('int_bewoningsperioden') }}
