-- Reports with the dwelling their address resolved to (or the case's verblijfsobject) and the owner of that dwelling.
select
    m.*,
    coalesce(l.verblijfsobject_id, z.bag_vbo_id) as verblijfsobject_id,
    l.confidence as adres_confidence,
    coalesce(l.method, case when z.bag_vbo_id is not null then 'zaak_bag_id' end) as adres_methode
from {{ ref('stg_meldpunten__meldingen') }} as m
left join {{ ref('stg_linkage__address_links') }} as l
    on l.source = 'meldpunten' and l.entity = 'melding' and l.record_key = m.melding_id
left join (
    select zm.melding_id, any_value(z.bag_vbo_id) as bag_vbo_id
    from {{ ref('stg_meldpunten__zaak_meldingen') }} as zm
    join {{ ref('stg_meldpunten__zaken') }} as z on z.zaak_id = zm.zaak_id
    group by zm.melding_id
) as z on z.melding_id = m.melding_id
