-- GROUP_TEMPORARY_OVERDUE — severity warning — period YYYY-MM — subject `unit|group_id`
--
-- A temporary work group still exists after its task is over:
--   with a task_end_date:    period_end - task_end_date > temporary_grace_days (default 7), or
--   without a task_end_date: period_end - created_date  > temporary_max_days   (default 180).
-- Exactly the grace / maximum is fine (strictly greater fires).
-- Thresholds: temporary_grace_days, temporary_max_days.
-- metric = days past the task end (or days since creation), threshold = the limit that applies.
WITH temporary_groups AS (
    SELECT
        *,
        CASE WHEN task_end_date IS NOT NULL THEN period_end - task_end_date
             ELSE period_end - created_date END AS days,
        CASE WHEN task_end_date IS NOT NULL THEN getvariable('temporary_grace_days')
             ELSE getvariable('temporary_max_days') END AS limit_days
    FROM group_rows
    WHERE purpose = 'temporary'
),

overdue AS (
    SELECT *
    FROM temporary_groups
    WHERE days > limit_days
)

SELECT
    o.county_code,
    o.period,
    o.unit_code,
    o.owner_dept_code AS dept_code,
    o.unit_code || '|' || o.group_id AS subject,
    o.days AS metric,
    o.limit_days AS threshold,
    CASE WHEN o.task_end_date IS NOT NULL
        THEN format('{} {}建的临时工作群「{}」任务已于{}结束，截至{}已{}天仍未解散（宽限{}天）',
                    coalesce(u.label, o.unit_code), coalesce(d.label, o.owner_dept_code), o.group_name,
                    o.task_end_date, o.period_end, o.days, o.limit_days)
        ELSE format('{} {}建的临时工作群「{}」建于{}，截至{}已存在{}天，超过临时群最长{}天仍未解散',
                    coalesce(u.label, o.unit_code), coalesce(d.label, o.owner_dept_code), o.group_name,
                    o.created_date, o.period_end, o.days, o.limit_days)
    END AS detail
FROM overdue AS o
LEFT JOIN jf_unit_label AS u ON u.unit_code = o.unit_code
LEFT JOIN jf_dept_label AS d ON d.dept_code = o.owner_dept_code
