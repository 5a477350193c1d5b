-- The programme's targets per year against what was done, each counted as the plan defines it: new cases (zaken,
-- 1,250 a year over the five neighbourhoods), integral actions (12 a year: one action in one neighbourhood on one
-- date), case tables (every two weeks in each neighbourhood: 26 each, one meeting per date), stop talks (about 10: a
-- talk with one owner on one date, however many of the owner's cases record it) and warned owners (each followed for
-- one year: the number warned that year, no norm). Every figure is tested against the synthetic world's truth
-- (tests/generic/matches_programme_truth.sql).
with zaken as (select * from {{ ref('fct_zaken') }}),
interventies as (select * from {{ ref('int_zaken__eigenaar') }} where interventie is not null),
jaren as (select distinct year(geopend_op) as jaar from zaken where geopend_op is not null),
wijken as (select unnest(['Bloemhof', 'Carnisse', 'Hillesluis', 'Pendrecht-Zuidwijk', 'Tarwewijk']) as wijk),
doelen as (
    select 'nieuwe_zaken' as doel, 1250 as norm_per_jaar, null::varchar as wijk
    union all select 'integrale_acties', 12, null
    union all select 'stopgesprekken', 10, null
    union all select 'gewaarschuwde_eigenaren', null, null
    union all select 'casustafels', 26, wijk from wijken
),
gerealiseerd as (
    select 'nieuwe_zaken' as doel, year(geopend_op) as jaar, null::varchar as wijk, count(*) as aantal
    from zaken group by 2
    union all
    select 'integrale_acties', year(interventie_datum), null, count(distinct interventie_datum::varchar || coalesce(wijk, ''))
    from interventies where interventie = 'integrale_actie' group by 2
    union all
    select 'stopgesprekken', year(interventie_datum), null,
        count(distinct coalesce(eigenaar_id, zaak_id) || '@' || interventie_datum)
    from interventies where interventie = 'stopgesprek' group by 2
    union all
    select 'gewaarschuwde_eigenaren', year(interventie_datum), null, count(distinct coalesce(eigenaar_id, zaak_id))
    from interventies where interventie = 'waarschuwing' group by 2
    union all
    select 'casustafels', year(interventie_datum), wijk, count(distinct interventie_datum)
    from interventies where interventie = 'casustafel' group by 2, 3
)
select
    j.jaar,
    d.doel,
    d.wijk,
    d.norm_per_jaar,
    coalesce(g.aantal, 0) as gerealiseerd,
    round(coalesce(g.aantal, 0) / d.norm_per_jaar, 3) as realisatie_ratio
from jaren as j
cross join doelen as d
left join gerealiseerd as g on g.doel = d.doel and g.jaar = j.jaar and g.wijk is not distinct from d.wijk
