-- Address spells from the BRP history: one row per person and address, the current one with is_current.
select
    bsn_psn as persoon_psn,
    volgnummer,
    is_current,
    try_cast(datum_aanvang as date) as datum_aanvang,
    try_cast(datum_einde as date) as datum_einde,
    adres_verblijfsobject_id as verblijfsobject_id,
    adres_nummeraanduiding_id as nummeraanduiding_id,
    adres_methode,
    postcode,
    huisnummer,
    verblijfplaats_type,
    concat(bsn_psn, '|', volgnummer::varchar) as record_key
from ({{ latest_delivery(source('brp', 'verblijfplaats_historie')) }})
