-- quota_usage — one row per department x year, across EVERY county (no county filter).
--
-- used   = distinct item_ids of the department with at least one visit (a row not cancelled) in
--          the year, in any county: a city department's item visiting three counties is one item,
--          and an item whose visits were all cancelled is not used.
-- quota  = quotas.max_inspection_items for the department and year, else default_dept_quota (2).
-- status = 'exceeded' when used > quota;
--          'warning'  when used >= ceil(quota_warning_ratio x quota) and used <= quota (and
--                     something was used: a department with nothing used is never warned, even
--                     when its quota is 0);
--          'ok' otherwise.
-- ratio  = used / quota (NULL when the quota is 0).
-- Rows: every department-year with a visit, plus every quotas row (used 0).
-- warning_level is ceil(ratio x quota) computed after rounding away floating-point noise
-- (0.1 x 30 is 3.0000000000000004 in binary; the warning level is 3, not 4).
-- Extra columns warning_level and items (the counted item ids) feed the quota flags; the public
-- quota_usage() keeps only the SPEC columns.
WITH used_items AS (
    SELECT DISTINCT dept_code, year, item_id
    FROM all_visits
),

used AS (
    SELECT dept_code, year, count(*) AS used, list(item_id ORDER BY item_id) AS items
    FROM used_items
    GROUP BY ALL
),

dept_years AS (
    SELECT dept_code, year FROM used
    UNION
    SELECT dept_code, year FROM quotas
),

usage AS (
    SELECT
        dy.dept_code,
        dy.year,
        coalesce(q.max_inspection_items, getvariable('default_dept_quota')) AS quota,
        coalesce(u.used, 0) AS used,
        coalesce(u.items, []) AS items
    FROM dept_years AS dy
    LEFT JOIN used AS u ON u.dept_code = dy.dept_code AND u.year = dy.year
    LEFT JOIN quotas AS q ON q.dept_code = dy.dept_code AND q.year = dy.year
),

levels AS (
    SELECT *, CAST(ceil(round(getvariable('quota_warning_ratio') * quota, 9)) AS BIGINT) AS warning_level
    FROM usage
)

SELECT
    dept_code,
    CAST(year AS INTEGER) AS year,
    CAST(quota AS BIGINT) AS quota,
    CAST(used AS BIGINT) AS used,
    CASE WHEN quota > 0 THEN used / quota END AS ratio,
    CASE
        WHEN used > quota THEN 'exceeded'
        WHEN used >= warning_level AND used <= quota AND used > 0 THEN 'warning'
        ELSE 'ok'
    END AS status,
    warning_level,
    items
FROM levels
