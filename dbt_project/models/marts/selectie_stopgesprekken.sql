-- Owners for stop talks: owners flagged as recurring, with the evidence, most signals first.
select
    e.eigenaar_id,
    e.eigenaar_soort,
    e.n_woningen,
    e.n_woningen_met_meldingen,
    e.n_overtredingen,
    e.n_stopgesprekken,
    e.laatste_stopgesprek,
    e.onder_monitoring,
    e.recidive_op,
    e.reden_recidiverend as toelichting,
    row_number() over (order by e.n_overtredingen desc, e.n_woningen_met_meldingen desc, e.eigenaar_id) as rang
from {{ ref('dim_eigenaren') }} as e
where e.is_recidiverend
