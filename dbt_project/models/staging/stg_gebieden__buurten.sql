-- Buurten of the latest year delivered; the year is kept because CBS codes change between years.
select buurtcode, buurtnaam, wijkcode, wijknaam, gemeentecode, jaar
from ({{ latest_delivery(source('gebieden', 'buurt')) }})
