-- Eight indicators per dwelling. Each is a rule anyone can read (thresholds are dbt vars, named in the indicator
-- register governance/indicators.yaml) and each row says which values triggered which rule. No indicator reads
-- nationality or any other protected trait: the lineage test in tests/ proves it from the manifest.
with w as (select * from {{ ref('dim_woningen') }}),
m as (select * from {{ ref('int_woningen__meldingen') }}),
h as (select * from {{ ref('int_woningen__huurders') }}),
vg as (select * from {{ ref('int_woningen__vergunning') }}),
eig as (select * from {{ ref('int_eigenaren__signalen') }}),
basis as (
    select
        w.verblijfsobject_id,
        w.adres_kort,
        w.straatnaam,
        w.huisnummer,
        w.buurtcode,
        w.buurtnaam,
        w.in_focusgebied,
        w.eigenaar_id,
        w.is_corporatiewoning,
        coalesce(w.eigenaar_woont_er, false) as eigenaar_woont_er,
        w.oppervlakte_m2,
        w.n_ingeschreven,
        w.n_vestigingen_12m,
        w.n_vertrekken_12m,
        w.kwh_12m,
        w.maanden_gemeten,
        w.maanden_laag,
        {{ var('verbruik_kwh_basis') }} + {{ var('verbruik_kwh_per_persoon') }} * greatest(w.n_ingeschreven - 1, 0)
            as kwh_verwacht,
        coalesce(m.n_meldingen_12m, 0) as n_meldingen_12m,
        coalesce(m.n_onderwerpen_12m, 0) as n_onderwerpen_12m,
        m.onderwerpen_12m,
        coalesce(m.n_meldingen_arbeidsmigranten_12m, 0) as n_meldingen_arbeidsmigranten_12m,
        coalesce(m.n_meldingen_huur_12m, 0) as n_meldingen_huur_12m,
        coalesce(h.n_huurders_niet_ingeschreven, 0) as n_huurders_niet_ingeschreven,
        coalesce(vg.heeft_vergunning, false) as heeft_vergunning,
        w.buurtcode in ({{ "'" ~ var('vergunning_buurten') | join("', '") ~ "'" }}) as in_vergunninggebied,
        coalesce(eig.is_recidiverend, false) as eigenaar_recidiverend,
        eig.reden_recidiverend
    from w
    left join m on m.verblijfsobject_id = w.verblijfsobject_id
    left join h on h.verblijfsobject_id = w.verblijfsobject_id
    left join vg on vg.verblijfsobject_id = w.verblijfsobject_id
    left join eig on eig.eigenaar_id = w.eigenaar_id
),
regels as (
    select
        *,
        -- overbewoning: more registered persons than floor area allows by the norm
        coalesce(n_ingeschreven >= {{ var('overbewoning_min_personen') }}
            and oppervlakte_m2 < n_ingeschreven * {{ var('overbewoning_m2_per_persoon') }}, false) as ind_overbewoning,
        -- niet-ingeschreven bewoning: use far above what the registered household explains, or a corporation
        -- tenant who is not registered at the dwelling
        coalesce(maanden_gemeten >= 6 and kwh_12m > {{ var('verbruik_factor_hoog') }} * kwh_verwacht, false)
            or n_huurders_niet_ingeschreven > 0 as ind_niet_ingeschreven,
        -- leegstand: nobody registered and near-zero use for months
        coalesce(n_ingeschreven = 0 and maanden_laag >= {{ var('leegstand_min_maanden') }}, false) as ind_leegstand,
        -- verloop: many moves in and out within 12 months
        n_vestigingen_12m + n_vertrekken_12m >= {{ var('verloop_min_verhuizingen') }} as ind_verloop,
        -- herhaalde meldingen: several reports, or reports on several subjects, within 12 months
        n_meldingen_12m >= {{ var('meldingen_min_aantal') }}
            or n_onderwerpen_12m >= {{ var('meldingen_min_onderwerpen') }} as ind_herhaalde_meldingen,
        -- recidiverende eigenaar: signals at several of the owner's dwellings, earlier violations, or monitoring
        eigenaar_recidiverend as ind_recidiverende_eigenaar,
        -- verhuur zonder vergunning: a privately let dwelling in a permit area without a permit in force
        coalesce(in_vergunninggebied and not is_corporatiewoning and not heeft_vergunning and not eigenaar_woont_er
            and eigenaar_id is not null and n_ingeschreven > 0, false) as ind_zonder_vergunning,
        -- arbeidsmigranten: reports on the ground of work-linked contracts or housing of labour migrants
        n_meldingen_arbeidsmigranten_12m > 0 as ind_arbeidsmigranten
    from basis
)
select
    *,
    ind_overbewoning::int + ind_niet_ingeschreven::int + ind_leegstand::int + ind_verloop::int
        + ind_herhaalde_meldingen::int + ind_recidiverende_eigenaar::int + ind_zonder_vergunning::int
        + ind_arbeidsmigranten::int as n_indicatoren,
    {{ explain([
        ("ind_overbewoning", "format('overbewoning: {} ingeschreven op {} m2 (norm {} m2 p.p.)', n_ingeschreven, oppervlakte_m2, " ~ var('overbewoning_m2_per_persoon') ~ ")"),
        ("ind_niet_ingeschreven and n_huurders_niet_ingeschreven > 0", "format('niet ingeschreven: {} huurder(s) van de corporatie niet op dit adres ingeschreven', n_huurders_niet_ingeschreven)"),
        ("ind_niet_ingeschreven and n_huurders_niet_ingeschreven = 0", "format('niet ingeschreven: {} kWh in 12 mnd bij {} ingeschreven (verwacht ~{} kWh)', round(kwh_12m)::bigint, n_ingeschreven, kwh_verwacht)"),
        ("ind_leegstand", "format('leegstand: niemand ingeschreven, {} van {} maanden verbruik onder {} kWh', maanden_laag, maanden_gemeten, " ~ var('leegstand_kwh_per_maand') ~ ")"),
        ("ind_verloop", "format('verloop: {} vestigingen en {} vertrekken in 12 mnd', n_vestigingen_12m, n_vertrekken_12m)"),
        ("ind_herhaalde_meldingen", "format('meldingen: {} in 12 mnd over {}', n_meldingen_12m, onderwerpen_12m)"),
        ("ind_recidiverende_eigenaar", "format('eigenaar: {}', reden_recidiverend)"),
        ("ind_zonder_vergunning", "'verhuur zonder vergunning: particuliere verhuur in vergunninggebied, geen geldige vergunning'"),
        ("ind_arbeidsmigranten", "format('arbeidsmigranten: {} melding(en) over huisvesting of contracten van arbeidsmigranten', n_meldingen_arbeidsmigranten_12m)"),
    ]) }} as toelichting
from regels
