-- Registered residents per dwelling at the reference date, and moves in and out over the preceding 12 months.
with peil as (select '{{ var("peildatum") }}'::date as peildatum),
spells as (select * from {{ ref('int_bewoningsperioden') }} where verblijfsobject_id is not null)
select
    s.verblijfsobject_id,
    count(distinct case when s.is_current then s.persoon_psn end) as n_ingeschreven,
    count(distinct case when s.datum_aanvang > peil.peildatum - interval 12 month
                        and s.datum_aanvang <= peil.peildatum then s.persoon_psn end) as n_vestigingen_12m,
    count(distinct case when not s.is_current and s.datum_einde > peil.peildatum - interval 12 month
                        and s.datum_einde <= peil.peildatum then s.persoon_psn end) as n_vertrekken_12m,
    max(case when not s.is_current then s.datum_einde end) as laatste_vertrek
from spells as s, peil
group by s.verblijfsobject_id
