{#- A target figure of monitoring_doelen against the synthetic world's truth (ground_truth/programme_targets.parquet,
    written by `rgw synth`): every year and neighbourhood the truth knows must be realised exactly as counted there,
    and the warehouse may report none the truth does not know. On real data the truth file is absent and the test
    has nothing to compare (it passes, saying so in its SQL). -#}
{% test matches_programme_truth(model, doel) %}
{%- set truth = var('ground_truth_root') ~ '/programme_targets.parquet' -%}
{#- Only a build looks for the file: the manifest is prepared with `dbt compile --no-introspect`, which runs no query. -#}
{%- set present = execute and flags.WHICH not in ('compile', 'parse') and (run_query("select count(*) from glob('" ~ truth ~ "')").columns[0].values()[0] > 0) -%}
{%- if present %}
with waarheid as (
    select cast(jaar as bigint) as jaar, wijk, cast(waarde as bigint) as waarde
    from read_parquet('{{ truth }}') where doel = '{{ doel }}'
),
gemeten as (
    select jaar, wijk, gerealiseerd from {{ model }} where doel = '{{ doel }}'
)
select coalesce(w.jaar, g.jaar) as jaar, coalesce(w.wijk, g.wijk) as wijk, w.waarde, g.gerealiseerd
from waarheid as w
full join gemeten as g on g.jaar = w.jaar and g.wijk is not distinct from w.wijk
where coalesce(w.waarde, 0) <> coalesce(g.gerealiseerd, 0)
{%- else %}
select 1 as no_synthetic_truth where false
{%- endif %}
{% endtest %}
