-- The report, linked to dwelling and owner: category, desk, status, cluster, mono- or multidisciplinary.
select
    m.melding_id,
    m.bron,
    m.aangemaakt_op,
    m.afgesloten_op,
    m.status,
    m.urgentie,
    m.onderwerpen,
    len(m.onderwerpen) > 1 as is_multidisciplinair,
    m.grond_wgv,
    m.melder_soort,
    m.behandelend_cluster,
    m.verblijfsobject_id,
    m.adres_confidence,
    m.adres_methode,
    w.buurtcode,
    w.eigenaar_id
from {{ ref('int_meldingen__gekoppeld') }} as m
left join {{ ref('dim_woningen') }} as w on w.verblijfsobject_id = m.verblijfsobject_id
