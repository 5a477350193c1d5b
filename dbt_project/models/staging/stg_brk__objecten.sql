-- Kadastral objects with the BAG verblijfsobject each address points to.
select
    a.kadastraal_object_id,
    o.type as object_type,
    a.adres_verblijfsobject_id as verblijfsobject_id,
    a.adres_nummeraanduiding_id as nummeraanduiding_id,
    concat(a.kadastraal_object_id, '|', a.volgnummer::varchar) as record_key
from ({{ latest_delivery(source('brk', 'kadastraal_object_adres')) }}) as a
left join ({{ latest_delivery(source('brk', 'kadastraal_object')) }}) as o
    on o.kadastraal_object_id = a.kadastraal_object_id
