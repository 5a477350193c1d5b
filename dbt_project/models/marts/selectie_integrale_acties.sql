-- The selection list for integral actions: per focus neighbourhood, dwellings ranked by their signals and grouped by
-- street so an action on a street can be planned. Evidence, not a verdict: people decide.
with kandidaten as (
    select * from {{ ref('woning_indicatoren') }}
    where in_focusgebied and n_indicatoren >= 1
),
straten as (
    select buurtcode, straatnaam, count(*) as n_woningen_met_signaal_in_straat, sum(n_indicatoren) as signalen_in_straat
    from kandidaten group by buurtcode, straatnaam
)
select
    k.buurtcode,
    k.buurtnaam,
    k.straatnaam,
    s.n_woningen_met_signaal_in_straat,
    dense_rank() over (partition by k.buurtcode order by s.signalen_in_straat desc, k.straatnaam) as straat_rang,
    row_number() over (partition by k.buurtcode order by k.n_indicatoren desc, k.n_meldingen_12m desc,
                       k.verblijfsobject_id) as rang_in_buurt,
    k.verblijfsobject_id,
    k.adres_kort,
    k.n_indicatoren,
    format('{} van 8 indicatoren: {}', k.n_indicatoren, k.toelichting) as toelichting,
    k.eigenaar_id,
    k.is_corporatiewoning
from kandidaten as k
join straten as s on s.buurtcode = k.buurtcode and s.straatnaam is not distinct from k.straatnaam
