-- Owners for stop talks: owners flagged as recurring, with the evidence, most signals first. An owner that is a legal
-- person (a B.V., a foundation) is named with its KvK number, so the team knows whom to invite; a natural person,
-- a sole trader included, stays a pseudonym (pseudonymisation/policy.py, keep_legal_person).
with rechtspersonen as (
    select
        l.entity_id as eigenaar_id,
        min(p.naam_rechtspersoon) as eigenaar_naam,
        min(p.kvk_nummer_rechtspersoon) as eigenaar_kvk_nummer
    from {{ ref('stg_linkage__entity_links') }} as l
    join {{ ref('stg_brk__personen') }} as p on p.persoon_id = l.record_key
    where l.source = 'brk' and l.entity = 'persoon' and l.entity_kind = 'eigenaar'
        and p.naam_rechtspersoon is not null
    group by l.entity_id
)
select
    e.eigenaar_id,
    e.eigenaar_soort,
    r.eigenaar_naam,
    r.eigenaar_kvk_nummer,
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
left join rechtspersonen as r on r.eigenaar_id = e.eigenaar_id
where e.is_recidiverend
