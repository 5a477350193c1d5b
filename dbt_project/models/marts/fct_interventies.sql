-- Every intervention of a case with its date, so the case team can see what happened when (and the two-weekly case
-- table cadence can be checked per neighbourhood).
select
    zaak_id,
    verblijfsobject_id,
    wijk,
    volgnummer,
    interventie,
    interventie_datum as datum
from {{ ref('int_zaken__eigenaar') }}
where interventie is not null
