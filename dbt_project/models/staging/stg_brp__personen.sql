-- Registered persons. Identity only as the hub's linkage pseudonym; birth date generalised to the year.
select
    bsn_psn as persoon_psn,
    geboortedatum_jaar as geboortejaar,
    gemeente_van_inschrijving
from ({{ latest_delivery(source('brp', 'persoon')) }})
