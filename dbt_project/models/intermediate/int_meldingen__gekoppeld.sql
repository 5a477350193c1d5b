-- Reports with the dwelling their address resolved to (or the case's verblijfsobject) and the owner of that dwelling.
select
    m.* replace (coalesce(m.verblijfsobject_id, z.bag_vbo_id) as verblijfsobject_id)
from {{ ref('stg_meldpunten__meldingen') }} as m
left join (
    select zm.melding_id, any_value(z.bag_vbo_id) as bag_vbo_id
    from {{ ref('stg_meldpunten__zaak_meldingen') }} as zm
    join {{ ref('stg_meldpunten__zaken') }} as z on z.zaak_id = zm.zaak_id
    group by zm.melding_id
) as z on z.melding_id = m.melding_id
