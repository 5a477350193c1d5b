select
    zaak_id,
    coalesce(bag_vbo_id, adres_verblijfsobject_id) as bag_vbo_id,
    wijk,
    try_cast(geopend_op as date) as geopend_op,
    try_cast(gesloten_op as date) as gesloten_op,
    soort,
    clusters,
    zaak_id as record_key
from ({{ latest_version(source('meldpunten', 'zaak'), 'zaak_id') }})
