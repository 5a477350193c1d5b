-- Reports: the reporter only as pseudonyms, the free text dropped at the door; the latest version of each report.
select
    melding_id,
    bron,
    aangemaakt_op::timestamptz as aangemaakt_op,
    afgesloten_op::timestamptz as afgesloten_op,
    status,
    urgentie,
    onderwerpen,
    grond_wgv,
    melder_soort,
    behandelend_cluster,
    adres_verblijfsobject_id as verblijfsobject_id,
    adres_confidence,
    adres_methode,
    melding_id as record_key
from ({{ latest_version(source('meldpunten', 'melding'), 'melding_id') }})
