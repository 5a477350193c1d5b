{#- Builds the human-readable explanation of a dwelling's indicators: each triggered rule with the values that
    triggered it, e.g. "overbewoning: 7 ingeschreven op 38 m2 (norm 12 m2 p.p.)". -#}
{% macro explain(parts) %}
    concat_ws('; ', {% for cond, text in parts %}case when {{ cond }} then {{ text }} end{% if not loop.last %}, {% endif %}{% endfor %})
{% endmacro %}
