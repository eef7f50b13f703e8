-- INSPECTION_UNPLANNED — severity warning — period YYYY — subject `dept:item_id|target`
--
-- A visit carried out outside the approved annual plan without approval (计划外未报批):
-- status is done, in_plan is false, and approval_ref is empty (missing or only blanks).
-- Thresholds: none. metric = 1 (one visit), threshold = 0.
WITH visits AS (
    SELECT *
    FROM inspections
    WHERE in_scope(county_code)
),

unplanned AS (
    SELECT *
    FROM visits
    WHERE status = 'done'
      AND in_plan = false
      AND (approval_ref IS NULL OR trim(approval_ref) = '')
)

SELECT
    'INSPECTION_UNPLANNED' AS rule,
    'warning' AS severity,
    county_code,
    CAST(year AS VARCHAR) AS period,
    target_unit_code AS unit_code,
    dept_code,
    dept_code || ':' || item_id || '|' || target_unit_code AS subject,
    1 AS metric,
    0 AS threshold,
    format('{}「{}」（事项{}）于{}对{}开展{}，未列入年度计划且无报批文号（计划外未报批）',
           dept_name(dept_code), topic, item_id, eff_date, unit_label(target_unit_code),
           MAP {'supervision': '督查', 'inspection': '检查', 'assessment': '考核'}[category]) AS detail
FROM unplanned
