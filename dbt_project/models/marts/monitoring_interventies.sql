-- Interventions per focus neighbourhood and month, counted as the plan counts them: a stop talk is a talk with one
-- owner on one date (recorded in each of that owner's cases, counted once), and so is a warning (it is given to the
-- owner); a case table is one meeting per neighbourhood on one date, an integral action one action per neighbourhood
-- on one date; inspections and fines one per case. `afgerond` counts the interventions whose case is closed by now (the outcome the programme
-- follows; a stop talk counts as afgerond when one of the owner's cases recording it is closed), so the interventions
-- still running are `aantal - afgerond`.
with interventies as (
    select
        *,
        case interventie
            when 'stopgesprek' then coalesce(eigenaar_id, zaak_id) || '@' || interventie_datum
            when 'waarschuwing' then coalesce(eigenaar_id, zaak_id) || '@' || interventie_datum
            when 'casustafel' then wijk || '@' || interventie_datum
            when 'integrale_actie' then wijk || '@' || interventie_datum
            else zaak_id || '#' || volgnummer
        end as telsleutel
    from {{ ref('int_zaken__eigenaar') }}
    where interventie is not null and interventie_datum is not null
),
-- one row per intervention as counted, in one neighbourhood (a stop talk about an owner with cases in two
-- neighbourhoods is one talk), so the rows add up over neighbourhoods and months
per_interventie as (
    select
        telsleutel,
        interventie,
        min(interventie_datum) as datum,
        min(wijk) as wijk,
        bool_or(gesloten_op is not null) as afgerond
    from interventies
    group by telsleutel, interventie
)
select
    year(datum) as jaar,
    month(datum) as maand,
    wijk,
    interventie,
    count(*) as aantal,
    count(*) filter (where afgerond) as afgerond
from per_interventie
group by all
