-- Kadastral objects with the BAG verblijfsobject each address points to.
select
    a.kadastraal_object_id,
    o.type as object_type,
    a.verblijfsobject_id,
    a.nummeraanduiding_id,
    concat(a.kadastraal_object_id, '|', a.volgnummer::varchar) as record_key
from ({{ latest_delivery(source('brk', 'kadastraal_object_adres')) }}) as a
left join ({{ latest_delivery(source('brk', 'kadastraal_object')) }}) as o
    on o.kadastraal_object_id = a.kadastraal_object_id
