-- Interventions per focus neighbourhood and month, counted as the plan counts them: a stop talk is a talk with one
-- owner on one date (recorded in each of that owner's cases, counted once), a case table one meeting per
-- neighbourhood on one date, an integral action one action per neighbourhood on one date; inspections, warnings and
-- fines one per case. `afgerond` counts the interventions whose case is closed by now (the outcome the programme
-- follows; a stop talk counts as afgerond when one of the owner's cases recording it is closed), so the interventions
-- still running are `aantal - afgerond`.
with interventies as (
    select
        *,
        case interventie
            when 'stopgesprek' then coalesce(eigenaar_id, zaak_id) || '@' || interventie_datum
            when 'casustafel' then wijk || '@' || interventie_datum
            when 'integrale_actie' then wijk || '@' || interventie_datum
            else zaak_id || '#' || volgnummer
        end as telsleutel
    from {{ ref('int_zaken__eigenaar') }}
    where interventie is not null and interventie_datum is not null
)
select
    year(interventie_datum) as jaar,
    month(interventie_datum) as maand,
    wijk,
    interventie,
    count(distinct telsleutel) as aantal,
    count(distinct telsleutel) filter (where gesloten_op is not null) as afgerond
from interventies
group by all
