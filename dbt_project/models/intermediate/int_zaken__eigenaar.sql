-- Cases and their interventions, with the dwelling's owner at the reference date.
select
    z.zaak_id,
    z.bag_vbo_id as verblijfsobject_id,
    z.wijk,
    z.geopend_op,
    z.gesloten_op,
    z.soort,
    z.clusters,
    e.eigenaar_id,
    i.volgnummer,
    i.soort as interventie,
    i.datum as interventie_datum
from {{ ref('stg_meldpunten__zaken') }} as z
left join {{ ref('int_woningen__eigenaar') }} as e on e.verblijfsobject_id = z.bag_vbo_id
left join {{ ref('stg_meldpunten__interventies') }} as i on i.zaak_id = z.zaak_id
