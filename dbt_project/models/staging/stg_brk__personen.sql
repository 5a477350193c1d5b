-- Owners: natural persons by BSN pseudonym, companies by KvK pseudonym; names only as keyed encodings upstream,
-- except a legal person's name and KvK number, which pass the boundary in plain text (policy keep_legal_person).
select
    persoon_id,
    persoon_type,
    bsn_psn as persoon_psn,
    kvk_nummer_psn,
    rechtsvorm,
    statutaire_naam_rechtspersoon as naam_rechtspersoon,
    kvk_nummer_rechtspersoon,
    persoon_id as record_key
from ({{ latest_delivery(source('brk', 'persoon')) }})
