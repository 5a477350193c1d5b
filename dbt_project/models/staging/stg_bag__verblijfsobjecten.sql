-- Current verblijfsobjecten of the latest BAG extract; a dwelling is one with woonfunctie.
select
    verblijfsobject_id,
    hoofdadres_id as nummeraanduiding_id,
    pand_ids,
    gebruiksdoelen,
    list_contains(gebruiksdoelen, 'woonfunctie') as is_woning,
    oppervlakte as oppervlakte_m2,
    status,
    x,
    y
from ({{ latest_delivery(source('bag', 'verblijfsobject')) }})
