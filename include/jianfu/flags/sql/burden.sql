-- burden — one row per unit x month: how much reporting, group and inspection load a unit carries.
--
--   forms_filled  = distinct forms (dept_code + form_id) the unit filled at least once (fill_count >= 1)
--   fills         = sum of fill_count
--   field_entries = sum of fill_count x field_count (data items keyed in)
--   hours         = sum of hours_spent (missing hours count as 0)
--   groups        = work groups of the unit that month
--   zombie_groups = those with period_end - last_active_date >= zombie_days
--   inspections   = visits (rows not cancelled) to the unit with eff_date in that month
--
-- Which rows: a unit appears for a month when it has a form_counts row or a work_groups row for
-- that period, or a visit dated in that month (planned visits included: they are scheduled load).
-- Everything else is 0 for that row. The county is the county of the submission (a unit's first
-- six digits). Restricted to in_scope counties so the builder can recompute one county at a time.
-- Thresholds: zombie_days.
WITH forms AS MATERIALIZED (  -- each read twice below: computed once
    SELECT
        county_code, period, unit_code,
        -- a unit has one row per form and month (the file's key, checked as critical), so its
        -- rows with fill_count >= 1 are the distinct forms it filled
        count(*) FILTER (WHERE fill_count >= 1) AS forms_filled,
        CAST(sum(fill_count) AS BIGINT) AS fills,  -- a sum of integers is HUGEINT in DuckDB
        CAST(sum(CAST(fill_count AS BIGINT) * field_count) AS BIGINT) AS field_entries,
        coalesce(hours_sum(hours_spent), 0) AS hours
    FROM form_rows
    GROUP BY ALL
),

unit_groups AS MATERIALIZED (
    SELECT
        county_code, period, unit_code,
        count(DISTINCT group_id) AS groups,
        count(DISTINCT group_id) FILTER (WHERE zombie) AS zombie_groups
    FROM group_rows
    GROUP BY ALL
),

unit_visits AS MATERIALIZED (
    SELECT county_code, strftime(eff_date, '%Y-%m') AS period, target_unit_code AS unit_code,
           count(*) AS inspections
    FROM visits
    GROUP BY ALL
),

unit_months AS (
    SELECT county_code, period, unit_code FROM forms
    UNION
    SELECT county_code, period, unit_code FROM unit_groups
    UNION
    SELECT county_code, period, unit_code FROM unit_visits
)

SELECT
    m.unit_code,
    m.county_code,
    m.period,
    coalesce(f.forms_filled, 0) AS forms_filled,
    coalesce(f.fills, 0) AS fills,
    coalesce(f.field_entries, 0) AS field_entries,
    coalesce(f.hours, 0) AS hours,
    coalesce(g.groups, 0) AS groups,
    coalesce(g.zombie_groups, 0) AS zombie_groups,
    coalesce(v.inspections, 0) AS inspections
FROM unit_months AS m
LEFT JOIN forms AS f USING (county_code, period, unit_code)
LEFT JOIN unit_groups AS g USING (county_code, period, unit_code)
LEFT JOIN unit_visits AS v USING (county_code, period, unit_code)
ORDER BY m.county_code, m.period, m.unit_code
