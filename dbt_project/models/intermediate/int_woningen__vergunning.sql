-- Whether a rental permit is in force for the dwelling at the reference date.
with peil as (select '{{ var("peildatum") }}'::date as peildatum)
select
    v.bag_vbo_id as verblijfsobject_id,
    bool_or(v.status = 'verleend' and v.verleend_op <= peil.peildatum
            and (v.geldig_tot is null or v.geldig_tot >= peil.peildatum)) as heeft_vergunning
from {{ ref('stg_meldpunten__vergunningen') }} as v, peil
where v.bag_vbo_id is not null
group by v.bag_vbo_id
