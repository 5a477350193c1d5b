-- New cases a year per focus neighbourhood, mono- and multidisciplinary.
select
    year(geopend_op) as jaar,
    wijk,
    count(*) as nieuwe_zaken,
    count(*) filter (where soort = 'multi') as multidisciplinair,
    count(*) filter (where soort = 'mono') as monodisciplinair
from {{ ref('fct_zaken') }}
where geopend_op is not null
group by all
