-- The yearly signalling figures per focus neighbourhood (grouped as the plan groups them: Pendrecht and Zuidwijk are
-- one) and subject. A report counts once per subject it names, and once under 'alle_onderwerpen' however many
-- subjects it names, so the subjects do not add up to that total (a report is a melding, not a topic mention).
-- Each row carries the neighbourhood's dwellings for a rate per 1,000. Cells under the minimum (default 5) are
-- suppressed (count and rate set to null, flag set) so no small group can be singled out; since no figure in this
-- table is the sum of others, no suppressed cell can be recomputed from the rest.
with meldingen as (
    select
        m.melding_id,
        year(m.aangemaakt_op) as jaar,
        {{ focuswijk('m.buurtcode') }} as wijk,
        m.onderwerpen
    from {{ ref('fct_meldingen') }} as m
    where m.aangemaakt_op is not null
),
telling as (
    select jaar, wijk, o.onderwerp, count(distinct melding_id) as aantal
    from meldingen cross join unnest(meldingen.onderwerpen) as o(onderwerp)
    group by all
    union all
    select jaar, wijk, 'alle_onderwerpen' as onderwerp, count(distinct melding_id) as aantal
    from meldingen
    group by all
),
woningen as (
    select {{ focuswijk('buurtcode') }} as wijk, count(*) as woningen
    from {{ ref('dim_woningen') }}
    group by all
)
select
    t.jaar,
    t.wijk,
    t.onderwerp,
    case when t.aantal >= {{ var('min_celgrootte') }} then t.aantal end as aantal,
    t.aantal < {{ var('min_celgrootte') }} as onderdrukt,
    w.woningen,
    case
        when t.aantal >= {{ var('min_celgrootte') }} and w.woningen >= {{ var('min_celgrootte') }}
            then round(1000.0 * t.aantal / w.woningen, 1)
    end as per_1000_woningen
from telling as t
left join woningen as w on w.wijk = t.wijk
