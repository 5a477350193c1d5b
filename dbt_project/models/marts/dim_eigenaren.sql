-- The owner entity: portfolio, dwellings with signals, reports, interventions, stop talks and monitoring status.
select
    s.*,
    e.eigenaar_soort,
    coalesce(c.n_corporatiewoningen, 0) as n_corporatiewoningen
from {{ ref('int_eigenaren__signalen') }} as s
left join (
    select eigenaar_id, any_value(eigenaar_soort) as eigenaar_soort
    from {{ ref('int_woningen__eigenaar') }} group by eigenaar_id
) as e on e.eigenaar_id = s.eigenaar_id
left join (
    select eigenaar_id, count(*) as n_corporatiewoningen
    from {{ ref('int_woningen__eigenaar') }} where is_corporatiewoning group by eigenaar_id
) as c on c.eigenaar_id = s.eigenaar_id
