select distinct zaak_id, volgnummer, soort, try_cast(datum as date) as datum
from ({{ with_delivery(source('meldpunten', 'zaak_interventie')) }})
