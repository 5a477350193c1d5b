-- The programme's targets per year against what was done: new cases (1,250 a year over the five neighbourhoods),
-- integral actions (12 a year), case tables (every two weeks in each neighbourhood: 26 each), stop talks (about 10),
-- warned owners under monitoring and recidivism.
with zaken as (select * from {{ ref('fct_zaken') }}),
interventies as (select * from {{ ref('int_zaken__eigenaar') }} where interventie is not null),
jaren as (select distinct year(geopend_op) as jaar from zaken where geopend_op is not null),
wijken as (select unnest(['Bloemhof', 'Carnisse', 'Hillesluis', 'Pendrecht-Zuidwijk', 'Tarwewijk']) as wijk),
doelen as (
    select 'nieuwe_zaken' as doel, 1250 as norm_per_jaar, null::varchar as wijk
    union all select 'integrale_acties', 12, null
    union all select 'stopgesprekken', 10, null
    union all select 'casustafels', 26, wijk from wijken
),
gerealiseerd as (
    select 'nieuwe_zaken' as doel, year(geopend_op) as jaar, null::varchar as wijk, count(*) as aantal
    from zaken group by 2
    union all
    select 'integrale_acties', year(interventie_datum), null, count(distinct interventie_datum::varchar || coalesce(wijk, ''))
    from interventies where interventie = 'integrale_actie' group by 2
    union all
    select 'stopgesprekken', year(interventie_datum), null, count(*)
    from interventies where interventie = 'stopgesprek' group by 2
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
