-- Owners: natural persons by BSN pseudonym, companies by KvK pseudonym; names only as keyed encodings upstream.
select
    persoon_id,
    persoon_type,
    bsn_psn as persoon_psn,
    kvk_nummer_psn,
    rechtsvorm,
    persoon_id as record_key
from ({{ latest_delivery(source('brk', 'persoon')) }})
