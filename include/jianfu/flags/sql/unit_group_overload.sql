-- UNIT_GROUP_OVERLOAD — severity info — period YYYY-MM — subject `unit`
--
-- A unit is in too many live work groups: its groups of the month that are not zombies
-- (period_end - last_active_date < zombie_days) number more than unit_groups_max (default 15;
-- equal to the maximum is fine).
-- Thresholds: unit_groups_max, zombie_days. metric = live groups, threshold = unit_groups_max.
WITH live_groups AS (
    SELECT county_code, period, unit_code, count(DISTINCT group_id) AS live
    FROM group_rows
    WHERE NOT zombie
    GROUP BY ALL
),

overloaded AS (
    SELECT *
    FROM live_groups
    WHERE live > getvariable('unit_groups_max')
)

SELECT
    o.county_code,
    o.period,
    o.unit_code,
    NULL AS dept_code,
    o.unit_code AS subject,
    o.live AS metric,
    getvariable('unit_groups_max') AS threshold,
    format('{} {}在用工作群{}个（不含僵尸群），超过上限{}个',
           coalesce(u.label, o.unit_code), o.period, o.live, getvariable('unit_groups_max')) AS detail
FROM overloaded AS o
LEFT JOIN jf_unit_label AS u ON u.unit_code = o.unit_code
