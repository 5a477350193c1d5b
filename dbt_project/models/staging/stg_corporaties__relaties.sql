-- Tenants and other parties: natural persons by BSN pseudonym where the corporation holds the BSN.
select
    relatie_id,
    soort,
    bsn_psn as persoon_psn,
    kvk_nummer_psn,
    relatie_id as record_key
from ({{ latest_delivery(source('corporaties', 'relatie')) }})
