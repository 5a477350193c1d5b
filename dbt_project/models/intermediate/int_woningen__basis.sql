-- Every verblijfsobject with its address, buurt and building: the frame every dwelling indicator hangs on.
select
    v.verblijfsobject_id,
    v.nummeraanduiding_id,
    v.is_woning,
    v.oppervlakte_m2,
    v.gebruiksdoelen,
    v.status as vbo_status,
    a.straatnaam,
    a.huisnummer,
    a.huisletter,
    a.huisnummertoevoeging,
    a.postcode,
    a.woonplaats,
    a.adres_kort,
    b.buurtcode,
    g.buurtnaam,
    g.wijknaam,
    p.bouwjaar
from {{ ref('stg_bag__verblijfsobjecten') }} as v
left join {{ ref('stg_bag__adressen') }} as a on a.nummeraanduiding_id = v.nummeraanduiding_id
left join {{ ref('stg_linkage__vbo_buurt') }} as b on b.verblijfsobject_id = v.verblijfsobject_id
left join {{ ref('stg_gebieden__buurten') }} as g on g.buurtcode = b.buurtcode
left join {{ ref('stg_bag__panden') }} as p on p.pand_id = v.pand_ids[1]
