select
    ean_psn as aansluiting_psn,
    productsoort,
    fysieke_status,
    slimme_meter,
    sjv,
    adres_verblijfsobject_id as verblijfsobject_id,
    adres_methode,
    postcode,
    huisnummer,
    ean_psn as record_key
from ({{ latest_delivery(source('stedin', 'aansluiting')) }})
