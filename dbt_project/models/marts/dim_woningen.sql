-- The dwelling: BAG data, buurt, registered residents, owner, corporation or private, energy use.
select
    b.verblijfsobject_id,
    b.nummeraanduiding_id,
    b.adres_kort,
    b.straatnaam,
    b.huisnummer,
    b.huisletter,
    b.huisnummertoevoeging,
    b.postcode,
    b.woonplaats,
    b.buurtcode,
    b.buurtnaam,
    b.wijknaam,
    b.buurtcode in ({{ "'" ~ var('focus_buurten') | join("', '") ~ "'" }}) as in_focusgebied,
    b.oppervlakte_m2,
    b.bouwjaar,
    coalesce(r.n_ingeschreven, 0) as n_ingeschreven,
    coalesce(r.n_vestigingen_12m, 0) as n_vestigingen_12m,
    coalesce(r.n_vertrekken_12m, 0) as n_vertrekken_12m,
    r.laatste_vertrek,
    e.eigenaar_id,
    e.eigenaar_soort,
    coalesce(e.is_corporatiewoning, false) as is_corporatiewoning,
    o.verblijfsobject_id is not null as eigenaar_woont_er,
    v.n_aansluitingen,
    v.kwh_12m,
    v.maanden_gemeten,
    v.maanden_laag,
    v.gas_m3_12m
from {{ ref('int_woningen__basis') }} as b
left join {{ ref('int_woningen__bewoners') }} as r on r.verblijfsobject_id = b.verblijfsobject_id
left join {{ ref('int_woningen__eigenaar') }} as e on e.verblijfsobject_id = b.verblijfsobject_id
left join {{ ref('int_woningen__verbruik') }} as v on v.verblijfsobject_id = b.verblijfsobject_id
left join {{ ref('int_woningen__eigenaar_bewoner') }} as o on o.verblijfsobject_id = b.verblijfsobject_id
where b.is_woning
