-- INSPECTION_TARGET_OVERFREQUENT — severity warning — period YYYY-Qn — subject `target_unit`
--
-- One unit receives too many visits in a calendar quarter: visits (inspection rows not
-- cancelled) to that target with eff_date in the quarter, from any department, number more than
-- target_quarter_visits_max (default 2; equal to the maximum is fine).
-- Thresholds: target_quarter_visits_max. metric = visits, threshold = target_quarter_visits_max.
WITH quartered AS (
    SELECT *, year(eff_date) || '-Q' || quarter(eff_date) AS quarter
    FROM visits
),

per_quarter AS (
    SELECT county_code, target_unit_code, quarter, count(*) AS visits
    FROM quartered
    GROUP BY ALL
),

overfrequent AS (
    SELECT *
    FROM per_quarter
    WHERE visits > getvariable('target_quarter_visits_max')
),

-- the visits themselves, named, for the detail sentence
listed AS (
    SELECT
        o.county_code, o.target_unit_code, o.quarter, o.visits,
        string_agg(coalesce(d.label, v.dept_code) || '「' || v.topic || '」(' || v.eff_date || ')', '；'
                   ORDER BY v.eff_date, v.dept_code, v.item_id) AS visit_list
    FROM overfrequent AS o
    JOIN quartered AS v USING (county_code, target_unit_code, quarter)
    LEFT JOIN jf_dept_label AS d ON d.dept_code = v.dept_code
    GROUP BY ALL
)

SELECT
    l.county_code,
    l.quarter AS period,
    l.target_unit_code AS unit_code,
    NULL AS dept_code,
    l.target_unit_code AS subject,
    l.visits AS metric,
    getvariable('target_quarter_visits_max') AS threshold,
    format('{} {}接受督查检查考核{}次，超过每季度上限{}次：{}',
           coalesce(u.label, l.target_unit_code), l.quarter, l.visits,
           getvariable('target_quarter_visits_max'), l.visit_list) AS detail
FROM listed AS l
LEFT JOIN jf_unit_label AS u ON u.unit_code = l.target_unit_code
