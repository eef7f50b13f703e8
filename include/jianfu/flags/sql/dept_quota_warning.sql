-- DEPT_QUOTA_WARNING — severity warning — period YYYY — subject `dept`
--
-- A department is close to its yearly quota of inspection items: used >= ceil(quota_warning_ratio
-- x quota) (default ratio 0.8) and used <= quota, counted across every county (see
-- quota_usage.sql for used and quota). county_code is empty: the quota is the department's.
-- Thresholds: quota_warning_ratio, default_dept_quota.
-- metric = used, threshold = the warning level ceil(ratio x quota).
-- Reads jf_quota_usage, the result of quota_usage.sql, which the runner materialises first.
WITH warned AS (
    SELECT *
    FROM jf_quota_usage
    WHERE status = 'warning'
)

SELECT
    NULL AS county_code,
    CAST(w.year AS VARCHAR) AS period,
    NULL AS unit_code,
    w.dept_code,
    w.dept_code AS subject,
    w.used AS metric,
    w.warning_level AS threshold,
    format('{} {}年已开展督查检查考核事项{}项，接近年度限额{}项（预警线{}项），请严控新增事项：{}',
           coalesce(d.label, w.dept_code), w.year, w.used, w.quota, w.warning_level,
           array_to_string(w.items, '、')) AS detail
FROM warned AS w
LEFT JOIN jf_dept_label AS d ON d.dept_code = w.dept_code
