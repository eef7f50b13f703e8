-- reduction — one row per county x month where form_counts or work_groups of that county and
-- month are in force: what the county's burden work achieved against the month before (prev)
-- and the same month a year before (yoy). SPEC.md section 14.
--
--   forms               distinct (dept_code, form_id) with fill_count >= 1 in the county that month
--   forms_prev          the same, the month before
--   forms_cancelled     filled the month before, not this month (取消填报事项)
--   forms_added         filled this month, not the month before
--   forms_less_frequent filled in both months, with a lower frequency this month; a form's
--                       frequency in a month is the highest among its rows (daily > weekly >
--                       monthly > quarterly > semiannual > annual > once); adhoc has no rank, so
--                       a change to or from adhoc is not counted
--   fills, fills_prev, fills_yoy   sum of fill_count this month, the month before, a year before
--   field_entries, hours           sum of fill_count x field_count; sum of hours_spent (blank = 0)
--   groups, groups_prev            distinct (unit_code, group_id) in work_groups
--   groups_dissolved, groups_created   in the month before and not now; now and not before (解散工作群)
--   zombie_groups       groups this month that GROUP_ZOMBIE flags (period_end - last_active >= zombie_days)
--   visits              visits (not cancelled) with eff_date in the month, from the inspections in
--                       force for the month's year
-- A column is NULL when a kind it needs is not in force for a month it compares (a file in force
-- always has rows, so "in force" is "has rows"). Thresholds: zombie_days.
WITH months AS (
    SELECT
        county_code, period,
        strftime(CAST(period || '-01' AS DATE) - INTERVAL 1 MONTH, '%Y-%m') AS prev,
        strftime(CAST(period || '-01' AS DATE) - INTERVAL 12 MONTH, '%Y-%m') AS yoy
    FROM (SELECT county_code, period FROM form_rows
          UNION
          SELECT county_code, period FROM group_rows)
),

-- each form a county filled in a month, with its frequency rank (NULL when all its rows are adhoc)
filled_forms AS (
    SELECT
        county_code, period, dept_code, form_id,
        max(frequency_rank(frequency)) AS frequency_rank
    FROM form_rows
    GROUP BY county_code, period, dept_code, form_id
    HAVING max(fill_count) >= 1
),

-- one row per county and month whose form_counts are in force (no row: not in force)
form_stats AS (
    SELECT
        t.county_code, t.period,
        coalesce(n.forms, 0) AS forms, t.fills, t.field_entries, t.hours
    FROM (
        SELECT
            county_code, period,
            CAST(sum(fill_count) AS BIGINT) AS fills,
            CAST(sum(CAST(fill_count AS BIGINT) * field_count) AS BIGINT) AS field_entries,
            coalesce(hours_sum(hours_spent), 0) AS hours
        FROM form_rows
        GROUP BY ALL
    ) AS t
    LEFT JOIN (
        SELECT county_code, period, count(*) AS forms FROM filled_forms GROUP BY ALL
    ) AS n USING (county_code, period)
),

-- one row per county and month whose work_groups are in force
group_stats AS (
    SELECT
        county_code, period,
        count(DISTINCT (unit_code, group_id)) AS groups,
        count(DISTINCT (unit_code, group_id)) FILTER (WHERE zombie) AS zombie_groups
    FROM group_rows
    GROUP BY ALL
),

-- what a county had each month: the forms it filled (with their frequency rank) and its groups
presence AS (
    SELECT 'form' AS kind, county_code, period, [dept_code, form_id] AS thing, frequency_rank AS rank
    FROM filled_forms
    UNION ALL
    SELECT DISTINCT 'group', county_code, period, [unit_code, group_id], NULL
    FROM group_rows
),

-- each thing of this month or the month before, on one row per county, month and thing
moves AS (
    SELECT
        kind, county_code, period, thing,
        bool_or(this_month) AS now_there, bool_or(NOT this_month) AS before_there,
        max(rank) FILTER (WHERE this_month) AS rank_now,
        max(rank) FILTER (WHERE NOT this_month) AS rank_before
    FROM (
        SELECT kind, county_code, period, thing, rank, true AS this_month
        FROM presence
        UNION ALL
        SELECT p.kind, m.county_code, m.period, p.thing, p.rank, false
        FROM months AS m
        JOIN presence AS p ON p.county_code = m.county_code AND p.period = m.prev
    )
    GROUP BY ALL
),

changes AS (
    SELECT
        county_code, period,
        count(*) FILTER (WHERE kind = 'form' AND before_there AND NOT now_there) AS forms_cancelled,
        count(*) FILTER (WHERE kind = 'form' AND now_there AND NOT before_there) AS forms_added,
        count(*) FILTER (WHERE kind = 'form' AND now_there AND before_there AND rank_now < rank_before)
            AS forms_less_frequent,
        count(*) FILTER (WHERE kind = 'group' AND before_there AND NOT now_there) AS groups_dissolved,
        count(*) FILTER (WHERE kind = 'group' AND now_there AND NOT before_there) AS groups_created
    FROM moves
    GROUP BY ALL
),

-- the inspections plans in force: one per county and year
plan_years AS (
    SELECT DISTINCT county_code, year FROM inspections WHERE in_scope(county_code)
),

month_visits AS (
    SELECT county_code, year, strftime(eff_date, '%Y-%m') AS period, count(*) AS visits
    FROM visits
    GROUP BY ALL
),

-- each month beside the month before and the year before; a side missing is a kind not in force
sides AS (
    SELECT
        m.county_code, m.period,
        cur.forms, prev.forms AS forms_prev, cur.fills, prev.fills AS fills_prev, yoy.fills AS fills_yoy,
        cur.field_entries, cur.hours, g.groups, gp.groups AS groups_prev, g.zombie_groups,
        cur.period IS NOT NULL AND prev.period IS NOT NULL AS forms_compared,
        g.period IS NOT NULL AND gp.period IS NOT NULL AS groups_compared,
        ch.* EXCLUDE (county_code, period),
        py.year IS NOT NULL AS plan_in_force, v.visits AS month_visits
    FROM months AS m
    LEFT JOIN form_stats AS cur ON cur.county_code = m.county_code AND cur.period = m.period
    LEFT JOIN form_stats AS prev ON prev.county_code = m.county_code AND prev.period = m.prev
    LEFT JOIN form_stats AS yoy ON yoy.county_code = m.county_code AND yoy.period = m.yoy
    LEFT JOIN changes AS ch ON ch.county_code = m.county_code AND ch.period = m.period
    LEFT JOIN group_stats AS g ON g.county_code = m.county_code AND g.period = m.period
    LEFT JOIN group_stats AS gp ON gp.county_code = m.county_code AND gp.period = m.prev
    LEFT JOIN plan_years AS py ON py.county_code = m.county_code AND py.year = CAST(left(m.period, 4) AS INTEGER)
    LEFT JOIN month_visits AS v ON v.county_code = m.county_code AND v.year = py.year AND v.period = m.period
)

SELECT
    county_code, period, forms, forms_prev,
    CASE WHEN forms_compared THEN coalesce(forms_cancelled, 0) END AS forms_cancelled,
    CASE WHEN forms_compared THEN coalesce(forms_added, 0) END AS forms_added,
    CASE WHEN forms_compared THEN coalesce(forms_less_frequent, 0) END AS forms_less_frequent,
    fills, fills_prev, fills_yoy, field_entries, hours, groups, groups_prev,
    CASE WHEN groups_compared THEN coalesce(groups_dissolved, 0) END AS groups_dissolved,
    CASE WHEN groups_compared THEN coalesce(groups_created, 0) END AS groups_created,
    zombie_groups,
    CASE WHEN plan_in_force THEN coalesce(month_visits, 0) END AS visits
FROM sides
ORDER BY county_code, period
