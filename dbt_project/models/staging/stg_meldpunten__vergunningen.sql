select
    vergunning_id,
    coalesce(bag_vbo_id, adres_verblijfsobject_id) as bag_vbo_id,
    soort,
    try_cast(verleend_op as date) as verleend_op,
    try_cast(geldig_tot as date) as geldig_tot,
    status,
    vergunning_id as record_key
from ({{ latest_version(source('meldpunten', 'vergunning'), 'vergunning_id') }})
