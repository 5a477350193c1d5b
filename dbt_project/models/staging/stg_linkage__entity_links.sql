select source, entity, record_key, entity_kind, entity_id, match_probability
from {{ source('linkage', 'entity_links') }}
