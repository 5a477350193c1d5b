-- Residence spells per dwelling from the BRP history (pseudonymous persons).
-- A view: the same rows as int_bewoningsperioden, which is a table already, so a second copy of the city's million
-- spells (0.6 s of writing in every BRP refresh) bought nothing; the contract still checks names and types.
{{ config(materialized='view') }}
select persoon_psn, volgnummer, verblijfsobject_id, datum_aanvang, datum_einde, is_current, koppelmethode
from {{ ref('int_bewoningsperioden') }}
