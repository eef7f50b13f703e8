-- INSPECTION_UNPLANNED — severity warning — period YYYY — subject `dept:item_id|target`
--
-- A visit carried out outside the approved annual plan without approval (计划外未报批):
-- status is done, in_plan is false, and approval_ref is empty (missing or only blanks).
-- Thresholds: none. metric = 1 (one visit), threshold = 0.
WITH unplanned AS (
    SELECT *
    FROM visits
    WHERE status = 'done'
      AND in_plan = false
      AND (approval_ref IS NULL OR trim(approval_ref) = '')
)

SELECT
    p.county_code,
    CAST(p.year AS VARCHAR) AS period,
    p.target_unit_code AS unit_code,
    p.dept_code,
    p.dept_code || ':' || p.item_id || '|' || p.target_unit_code AS subject,
    1 AS metric,
    0 AS threshold,
    format('{}「{}」（事项{}）于{}对{}开展{}，未列入年度计划且无报批文号（计划外未报批）',
           coalesce(d.label, p.dept_code), p.topic, p.item_id, p.eff_date,
           coalesce(u.label, p.target_unit_code),
           MAP {'supervision': '督查', 'inspection': '检查', 'assessment': '考核'}[p.category]) AS detail
FROM unplanned AS p
LEFT JOIN jf_unit_label AS u ON u.unit_code = p.target_unit_code
LEFT JOIN jf_dept_label AS d ON d.dept_code = p.dept_code
