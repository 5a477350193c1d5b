-- One row per nummeraanduiding with its street and woonplaats names: the address as BAG writes it.
with num as (select * from ({{ latest_delivery(source('bag', 'nummeraanduiding')) }})),
opr as (select * from ({{ latest_delivery(source('bag', 'openbare_ruimte')) }})),
wpl as (select * from ({{ latest_delivery(source('bag', 'woonplaats')) }}))
select
    num.nummeraanduiding_id,
    opr.naam as straatnaam,
    num.huisnummer,
    num.huisletter,
    num.huisnummertoevoeging,
    num.postcode,
    coalesce(wpl_num.naam, wpl.naam) as woonplaats,
    num.status,
    concat_ws(' ', opr.naam, concat(num.huisnummer::varchar, coalesce(num.huisletter, '')),
              num.huisnummertoevoeging) as adres_kort
from num
left join opr on opr.openbare_ruimte_id = num.openbare_ruimte_id
left join wpl on wpl.woonplaats_id = opr.woonplaats_id
left join wpl as wpl_num on wpl_num.woonplaats_id = num.woonplaats_id
