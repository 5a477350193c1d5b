-- Electricity and gas use per dwelling over the 12 months before the reference date. A connection belongs to the
-- verblijfsobject the grid operator names, or else the one its address resolved to.
with peil as (select '{{ var("peildatum") }}'::date as peildatum),
aansluiting as (
    select a.aansluiting_psn, a.productsoort, a.fysieke_status, a.sjv, a.verblijfsobject_id
    from {{ ref('stg_stedin__aansluitingen') }} as a
),
maand as (
    select v.aansluiting_psn, strptime(v.periode || '-01', '%Y-%m-%d')::date as maand, v.verbruik
    from {{ ref('stg_stedin__verbruik') }} as v, peil
    where v.periode_soort = 'month'
      and strptime(v.periode || '-01', '%Y-%m-%d')::date >= peil.peildatum - interval 12 month
      and strptime(v.periode || '-01', '%Y-%m-%d')::date < peil.peildatum
),
elk as (
    select a.verblijfsobject_id,
           sum(m.verbruik) as kwh_12m,
           count(distinct m.maand) as maanden_gemeten,
           count(distinct case when m.verbruik < {{ var('leegstand_kwh_per_maand') }} then m.maand end) as maanden_laag
    from maand as m
    join aansluiting as a on a.aansluiting_psn = m.aansluiting_psn and a.productsoort = 'ELK'
    group by a.verblijfsobject_id
),
gas as (
    select a.verblijfsobject_id, sum(m.verbruik) as gas_m3_12m
    from maand as m
    join aansluiting as a on a.aansluiting_psn = m.aansluiting_psn and a.productsoort = 'GAS'
    group by a.verblijfsobject_id
),
sjv as (
    select verblijfsobject_id,
           sum(case when productsoort = 'ELK' then sjv end) as sjv_kwh,
           count(*) as n_aansluitingen
    from aansluiting where verblijfsobject_id is not null
    group by verblijfsobject_id
)
select
    sjv.verblijfsobject_id,
    sjv.n_aansluitingen,
    sjv.sjv_kwh,
    elk.kwh_12m,
    elk.maanden_gemeten,
    elk.maanden_laag,
    gas.gas_m3_12m
from sjv
left join elk on elk.verblijfsobject_id = sjv.verblijfsobject_id
left join gas on gas.verblijfsobject_id = sjv.verblijfsobject_id
