{#- The landing zone keeps one folder per delivery. Registries (BAG, BRP, BRK, Stedin, corporations) deliver full
    snapshots: staging keeps only the latest delivery. Event sources (reports, cases) deliver increments: staging
    keeps every delivery and the latest version of each record. -#}
{% macro delivery_id(filename) -%}
    regexp_extract({{ filename }}, '[/\\]([^/\\]+)[/\\][^/\\]+\.parquet$', 1)
{%- endmacro %}

{% macro with_delivery(relation) %}
    select * exclude (filename), {{ delivery_id('filename') }} as delivery_id
    from {{ relation }}
{% endmacro %}

{#- The rows of the latest delivery that has any. A source reads one file per delivery folder
    (`<source>/*/<entity>.parquet`), so that delivery is one file: comparing the file name with it lets DuckDB push
    the comparison into the Parquet scan as a dynamic filter and skip the other deliveries' files, instead of reading
    every delivery and dropping all but the latest (the city's BRP spells: 1 file of 1.0 million rows read instead of
    4 files of 4.0 million, every time a model or test reads the staging view). The files' names alone are scanned to
    find it, the delivery id computed per file, not per row. -#}
{% macro latest_delivery(relation) %}
    select * exclude (filename), {{ delivery_id('filename') }} as delivery_id
    from {{ relation }}
    where filename = (
        select arg_max(f.filename, {{ delivery_id('f.filename') }})
        from (select distinct filename from {{ relation }}) as f
    )
{% endmacro %}

{% macro latest_version(relation, key) %}
    select * from ({{ with_delivery(relation) }}) as d
    qualify row_number() over (partition by {{ key }} order by d.delivery_id desc) = 1
{% endmacro %}
