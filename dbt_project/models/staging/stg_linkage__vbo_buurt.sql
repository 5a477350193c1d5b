select verblijfsobject_id, buurtcode
from {{ source('linkage', 'vbo_buurt') }}
