-- The yearly signalling figures per neighbourhood and subject. Cells under the minimum (default 5) are suppressed
-- (count set to null, flag set) so no small group can be singled out.
with telling as (
    select
        year(m.aangemaakt_op) as jaar,
        coalesce(w.buurtcode, 'onbekend') as buurtcode,
        o.onderwerp,
        count(distinct m.melding_id) as aantal
    from {{ ref('fct_meldingen') }} as m
    left join {{ ref('dim_woningen') }} as w on w.verblijfsobject_id = m.verblijfsobject_id
    cross join unnest(m.onderwerpen) as o(onderwerp)
    group by all
)
select
    t.jaar,
    t.buurtcode,
    b.buurtnaam,
    t.onderwerp,
    case when t.aantal >= {{ var('min_celgrootte') }} then t.aantal end as aantal,
    t.aantal < {{ var('min_celgrootte') }} as onderdrukt
from telling as t
left join {{ ref('stg_gebieden__buurten') }} as b on b.buurtcode = t.buurtcode
