-- New cases (zaken, not report topics) per focus neighbourhood and month, mono- and multidisciplinary. The
-- neighbourhood is the case's own (the plan's grouping: Pendrecht-Zuidwijk is one). Counts here are exact; the
-- published dataset and the programme report suppress small ones (docs/reports.md).
select
    year(geopend_op) as jaar,
    month(geopend_op) as maand,
    wijk,
    count(*) as nieuwe_zaken,
    count(*) filter (where soort = 'multi') as multidisciplinair,
    count(*) filter (where soort = 'mono') as monodisciplinair
from {{ ref('fct_zaken') }}
where geopend_op is not null
group by all
