select pand_id, oorspronkelijk_bouwjaar as bouwjaar, status
from ({{ latest_delivery(source('bag', 'pand')) }})
