-- Per owner entity: portfolio, dwellings with signals, earlier violations and the one-year monitoring after a
-- warning, with recidivism flagged from the first new signal after the warning.
with peil as (select '{{ var("peildatum") }}'::date as peildatum),
woningen as (
    select e.eigenaar_id, e.verblijfsobject_id, m.n_meldingen_12m
    from {{ ref('int_woningen__eigenaar') }} as e
    left join {{ ref('int_woningen__meldingen') }} as m on m.verblijfsobject_id = e.verblijfsobject_id
    where e.eigenaar_id is not null
),
interventies as (select * from {{ ref('int_zaken__eigenaar') }} where eigenaar_id is not null),
waarschuwing as (
    select eigenaar_id, max(interventie_datum) as laatste_waarschuwing
    from interventies where interventie = 'waarschuwing' group by eigenaar_id
),
signalen_na as (
    -- new reports or violations at any of the owner's dwellings after the last warning
    select w.eigenaar_id, min(s.datum) as eerste_signaal_na_waarschuwing
    from waarschuwing as w
    join (
        select e.eigenaar_id, m.aangemaakt_op::date as datum
        from {{ ref('int_meldingen__gekoppeld') }} as m
        join {{ ref('int_woningen__eigenaar') }} as e on e.verblijfsobject_id = m.verblijfsobject_id
        union all
        select eigenaar_id, interventie_datum from interventies
        where interventie in ('boete', 'last_onder_dwangsom', 'sluiting')
    ) as s on s.eigenaar_id = w.eigenaar_id and s.datum > w.laatste_waarschuwing
        and s.datum <= w.laatste_waarschuwing + interval 1 year
    group by w.eigenaar_id
),
per_eigenaar as (
    select
        w.eigenaar_id,
        count(distinct w.verblijfsobject_id) as n_woningen,
        count(distinct case when w.n_meldingen_12m > 0 then w.verblijfsobject_id end) as n_woningen_met_meldingen
    from woningen as w group by w.eigenaar_id
),
handhaving as (
    select
        eigenaar_id,
        count(distinct zaak_id) as n_zaken,
        count(*) filter (where interventie in ('boete', 'last_onder_dwangsom', 'sluiting')) as n_overtredingen,
        count(*) filter (where interventie = 'stopgesprek') as n_stopgesprekken,
        max(interventie_datum) filter (where interventie = 'stopgesprek') as laatste_stopgesprek
    from interventies group by eigenaar_id
)
select
    p.eigenaar_id,
    p.n_woningen,
    p.n_woningen_met_meldingen,
    coalesce(h.n_zaken, 0) as n_zaken,
    coalesce(h.n_overtredingen, 0) as n_overtredingen,
    coalesce(h.n_stopgesprekken, 0) as n_stopgesprekken,
    h.laatste_stopgesprek,
    w.laatste_waarschuwing,
    w.laatste_waarschuwing is not null and w.laatste_waarschuwing + interval 1 year >= peil.peildatum as onder_monitoring,
    s.eerste_signaal_na_waarschuwing as recidive_op,
    (p.n_woningen_met_meldingen >= {{ var('eigenaar_min_woningen_met_signaal') }}
        and p.n_woningen_met_meldingen >= {{ var('eigenaar_min_aandeel_met_signaal') }} * p.n_woningen)
        or coalesce(h.n_overtredingen, 0) > 0
        or (w.laatste_waarschuwing is not null and w.laatste_waarschuwing + interval 1 year >= peil.peildatum)
        as is_recidiverend,
    concat_ws(', ',
        case when p.n_woningen_met_meldingen >= {{ var('eigenaar_min_woningen_met_signaal') }}
                  and p.n_woningen_met_meldingen >= {{ var('eigenaar_min_aandeel_met_signaal') }} * p.n_woningen
             then format('meldingen bij {} van {} woningen', p.n_woningen_met_meldingen, p.n_woningen) end,
        case when coalesce(h.n_overtredingen, 0) > 0 then format('{} eerdere overtreding(en)', h.n_overtredingen) end,
        case when w.laatste_waarschuwing + interval 1 year >= peil.peildatum
             then format('onder monitoring sinds waarschuwing van {}', w.laatste_waarschuwing) end,
        case when s.eerste_signaal_na_waarschuwing is not null
             then format('recidive op {}', s.eerste_signaal_na_waarschuwing) end
    ) as reden_recidiverend
from per_eigenaar as p
cross join peil
left join handhaving as h on h.eigenaar_id = p.eigenaar_id
left join waarschuwing as w on w.eigenaar_id = p.eigenaar_id
left join signalen_na as s on s.eigenaar_id = p.eigenaar_id
