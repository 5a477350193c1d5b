{#- The programme's five focus neighbourhoods, grouped as the plan groups them: the CBS buurten Pendrecht and
    Zuidwijk form one focus neighbourhood, Pendrecht-Zuidwijk. The mapping lives in dbt_project.yml (var
    `focuswijken`), so a change of CBS codes is one edit. -#}
{% macro focuswijk(buurtcode) %}
    case
    {%- for code, wijk in var('focuswijken').items() %}
        when {{ buurtcode }} = '{{ code }}' then '{{ wijk }}'
    {%- endfor %}
        when {{ buurtcode }} is null then 'onbekend'
        else 'buiten de focuswijken'
    end
{% endmacro %}
