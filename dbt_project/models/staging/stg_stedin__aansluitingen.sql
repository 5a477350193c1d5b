select
    ean_psn as aansluiting_psn,
    productsoort,
    fysieke_status,
    slimme_meter,
    sjv,
    bag_vbo_id,
    postcode,
    huisnummer,
    ean_psn as record_key
from ({{ latest_delivery(source('stedin', 'aansluiting')) }})
