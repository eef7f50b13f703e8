-- DEPT_QUOTA_EXCEEDED — severity critical — period YYYY — subject `dept`
--
-- A department has more distinct inspection items with a visit in the year than its quota:
-- used > quota, counted across every county (see quota_usage.sql for used and quota).
-- county_code is empty: the quota is the department's.
-- Thresholds: default_dept_quota (when quotas.csv has no row). metric = used, threshold = quota.
-- Reads jf_quota_usage, the result of quota_usage.sql, which the runner materialises first.
WITH exceeded AS (
    SELECT *
    FROM jf_quota_usage
    WHERE status = 'exceeded'
)

SELECT
    NULL AS county_code,
    CAST(e.year AS VARCHAR) AS period,
    NULL AS unit_code,
    e.dept_code,
    e.dept_code AS subject,
    e.used AS metric,
    e.quota AS threshold,
    format('{} {}年已开展督查检查考核事项{}项，超过年度限额{}项，请停止新增并压减事项：{}',
           coalesce(d.label, e.dept_code), e.year, e.used, e.quota, array_to_string(e.items, '、')) AS detail
FROM exceeded AS e
LEFT JOIN jf_dept_label AS d ON d.dept_code = e.dept_code
