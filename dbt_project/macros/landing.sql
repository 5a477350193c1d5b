{#- The landing zone keeps one folder per delivery. Registries (BAG, BRP, BRK, Stedin, corporations) deliver full
    snapshots: staging keeps only the latest delivery. Event sources (reports, cases) deliver increments: staging
    keeps every delivery and the latest version of each record. -#}
{% macro with_delivery(relation) %}
    select * exclude (filename), regexp_extract(filename, '[/\\]([^/\\]+)[/\\][^/\\]+\.parquet$', 1) as delivery_id
    from {{ relation }}
{% endmacro %}

{% macro latest_delivery(relation) %}
    select * from ({{ with_delivery(relation) }}) as d
    where d.delivery_id = (select max(delivery_id) from ({{ with_delivery(relation) }}) as m)
{% endmacro %}

{% macro latest_version(relation, key) %}
    select * from ({{ with_delivery(relation) }}) as d
    qualify row_number() over (partition by {{ key }} order by d.delivery_id desc) = 1
{% endmacro %}
