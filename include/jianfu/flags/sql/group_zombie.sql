-- GROUP_ZOMBIE — severity warning — period YYYY-MM — subject `unit|group_id`
--
-- A work group nobody has used for a long time ("僵尸群"): days from last_active_date to the end of
-- the period >= zombie_days (default 90, inclusive).
-- Thresholds: zombie_days. metric = days inactive, threshold = zombie_days.
WITH zombies AS (
    SELECT *
    FROM group_rows
    WHERE zombie
)

SELECT
    z.county_code,
    z.period,
    z.unit_code,
    z.owner_dept_code AS dept_code,
    z.unit_code || '|' || z.group_id AS subject,
    z.days_inactive AS metric,
    getvariable('zombie_days') AS threshold,
    format('{} {}建的工作群「{}」截至{}已{}天无人活跃（最近活跃{}），达到僵尸群标准{}天，建议解散',
           coalesce(u.label, z.unit_code), coalesce(d.label, z.owner_dept_code), z.group_name,
           period_end(z.period), z.days_inactive, z.last_active_date, getvariable('zombie_days')) AS detail
FROM zombies AS z
LEFT JOIN jf_unit_label AS u ON u.unit_code = z.unit_code
LEFT JOIN jf_dept_label AS d ON d.dept_code = z.owner_dept_code
