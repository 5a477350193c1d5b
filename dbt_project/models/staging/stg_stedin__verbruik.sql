select
    ean_psn as aansluiting_psn,
    periode,
    periode_soort,
    verbruik,
    eenheid
from ({{ latest_delivery(source('stedin', 'verbruik')) }})
