select
    o.huurovereenkomst_id,
    o.eenheid_id,
    try_cast(o.begindatum as date) as begindatum,
    try_cast(o.einddatum as date) as einddatum,
    o.brutohuur,
    o.soort,
    r.relatie_id
from ({{ latest_delivery(source('corporaties', 'huurovereenkomst')) }}) as o
left join ({{ latest_delivery(source('corporaties', 'huurovereenkomst_relatie')) }}) as r
    on r.huurovereenkomst_id = o.huurovereenkomst_id
