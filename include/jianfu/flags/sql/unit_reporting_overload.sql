-- UNIT_REPORTING_OVERLOAD — severity warning — period YYYY-MM — subject `unit`
--
-- A unit's total fills of the month (sum of fill_count over all its forms) exceeds
-- unit_monthly_fills_max (default 60; equal to the maximum is fine).
-- Thresholds: unit_monthly_fills_max. metric = total fills, threshold = unit_monthly_fills_max.
WITH unit_month AS (
    SELECT
        county_code, period, unit_code,
        sum(fill_count) AS fills,
        count(*) FILTER (WHERE fill_count >= 1) AS forms
    FROM form_rows
    GROUP BY ALL
),

overloaded AS (
    SELECT *
    FROM unit_month
    WHERE fills > getvariable('unit_monthly_fills_max')
)

SELECT
    o.county_code,
    o.period,
    o.unit_code,
    NULL AS dept_code,
    o.unit_code AS subject,
    o.fills AS metric,
    getvariable('unit_monthly_fills_max') AS threshold,
    format('{} {}共填报{}种报表{}次，超过每月上限{}次',
           coalesce(u.label, o.unit_code), o.period, o.forms, o.fills,
           getvariable('unit_monthly_fills_max')) AS detail
FROM overloaded AS o
LEFT JOIN jf_unit_label AS u ON u.unit_code = o.unit_code
