select
    eenheid_id,
    soort,
    status,
    adres_verblijfsobject_id as verblijfsobject_id,
    gebruiksoppervlakte,
    kamers_aantal,
    brutohuur,
    eenheid_id as record_key
from ({{ latest_delivery(source('corporaties', 'eenheid')) }})
