select source, entity, record_key, nummeraanduiding_id, verblijfsobject_id, confidence, method, unresolved_reason
from {{ source('linkage', 'address_links') }}
