select distinct zaak_id, melding_id
from ({{ with_delivery(source('meldpunten', 'zaak_melding')) }})
