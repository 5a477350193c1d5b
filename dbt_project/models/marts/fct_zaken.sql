-- The case: the uniform registration across the five neighbourhoods, with its interventions counted.
select
    z.zaak_id,
    any_value(z.verblijfsobject_id) as verblijfsobject_id,
    any_value(z.wijk) as wijk,
    any_value(z.geopend_op) as geopend_op,
    any_value(z.gesloten_op) as gesloten_op,
    any_value(z.soort) as soort,
    any_value(z.clusters) as clusters,
    any_value(z.eigenaar_id) as eigenaar_id,
    count(z.interventie) as n_interventies,
    list_sort(list(distinct z.interventie) filter (where z.interventie is not null)) as interventies  -- sorted: one answer
from {{ ref('int_zaken__eigenaar') }} as z
group by z.zaak_id
