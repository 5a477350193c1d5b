-- Reports per dwelling in the 12 months before the reference date.
with peil as (select '{{ var("peildatum") }}'::timestamptz as peildatum)
select
    m.verblijfsobject_id,
    count(*) as n_meldingen_12m,
    count(distinct o.onderwerp) as n_onderwerpen_12m,
    string_agg(distinct o.onderwerp, ', ' order by o.onderwerp) as onderwerpen_12m,
    count(distinct case when m.grond_wgv like 'arbeidsmigrant%'
                         or list_contains(m.onderwerpen, 'huisvesting_arbeidsmigranten') then m.melding_id end)
        as n_meldingen_arbeidsmigranten_12m,
    count(distinct case when list_contains(m.onderwerpen, 'huur_te_hoog')
                         or m.grond_wgv in ('borg_te_hoog', 'servicekosten_onredelijk', 'dubbele_bemiddelingskosten')
                        then m.melding_id end) as n_meldingen_huur_12m
from {{ ref('int_meldingen__gekoppeld') }} as m
cross join peil
left join (select melding_id, unnest(onderwerpen) as onderwerp from {{ ref('stg_meldpunten__meldingen') }}) as o
    on o.melding_id = m.melding_id
where m.verblijfsobject_id is not null
  and m.aangemaakt_op > peil.peildatum - interval 12 month
  and m.aangemaakt_op <= peil.peildatum
group by m.verblijfsobject_id
