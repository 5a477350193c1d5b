select
    zakelijk_gerechtigde_id,
    kadastraal_object_id,
    persoon_id,
    type as recht,
    try_cast(aanvangsdatum as date) as aanvangsdatum,
    aandeel_teller,
    aandeel_noemer
from ({{ latest_delivery(source('brk', 'zakelijk_gerechtigde')) }})
