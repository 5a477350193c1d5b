-- Every warned owner under monitoring for one year after the warning, with recidivism flagged the day it happens.
select
    eigenaar_id,
    laatste_waarschuwing,
    laatste_waarschuwing + interval 1 year as monitoring_tot,
    onder_monitoring,
    recidive_op,
    recidive_op is not null as recidive
from {{ ref('dim_eigenaren') }}
where laatste_waarschuwing is not null
