-- INSPECTION_UNCOORDINATED — severity info — period YYYY (year of the earlier visit)
-- subject `target|deptA:itemA|deptB:itemB` (A < B comparing the whole `dept:item` token)
--
-- Two visits (rows not cancelled) to one target by different departments, with eff_dates at most
-- merge_window_days apart (default 30, inclusive), where neither visit lists the other's
-- department in its joint_depts: they should have been one joint visit (综合查一次).
-- joint_depts is split on the list separators; each code is read after NFKC, trimming and upper
-- case, so a full-width "４２１１２７－ＡＧＲＩ" still names 421127-AGRI.
-- Thresholds: merge_window_days. metric = days apart, threshold = merge_window_days.
WITH close_pairs AS (
    SELECT
        a.county_code,
        a.target_unit_code,
        a.token AS token_a, b.token AS token_b,
        a.dept_code AS dept_a, b.dept_code AS dept_b,
        a.topic AS topic_a, b.topic AS topic_b,
        a.eff_date AS date_a, b.eff_date AS date_b,
        abs(a.eff_date - b.eff_date) AS days_apart
    FROM visits AS a
    JOIN visits AS b
      ON a.county_code = b.county_code
     AND a.target_unit_code = b.target_unit_code
     AND a.dept_code <> b.dept_code
     AND a.token < b.token
    WHERE abs(a.eff_date - b.eff_date) <= getvariable('merge_window_days')
      AND NOT list_contains(a.partners, b.dept_code)
      AND NOT list_contains(b.partners, a.dept_code)
),

uncoordinated AS (
    SELECT *, CAST(year(least(date_a, date_b)) AS VARCHAR) AS period
    FROM close_pairs
    -- the same dept:item token can recur in two years' plans; keep one flag per period x subject
    QUALIFY row_number() OVER (
        PARTITION BY county_code, target_unit_code, token_a, token_b, period
        ORDER BY days_apart, date_a, date_b) = 1
)

SELECT
    x.county_code,
    x.period,
    x.target_unit_code AS unit_code,
    NULL AS dept_code,
    x.target_unit_code || '|' || x.token_a || '|' || x.token_b AS subject,
    x.days_apart AS metric,
    getvariable('merge_window_days') AS threshold,
    format('{} 先后接受{}「{}」({})和{}「{}」({})，相隔{}天（不超过{}天）且未联合开展，应综合查一次',
           coalesce(u.label, x.target_unit_code), coalesce(da.label, x.dept_a), x.topic_a, x.date_a,
           coalesce(db.label, x.dept_b), x.topic_b, x.date_b, x.days_apart,
           getvariable('merge_window_days')) AS detail
FROM uncoordinated AS x
LEFT JOIN jf_unit_label AS u ON u.unit_code = x.target_unit_code
LEFT JOIN jf_dept_label AS da ON da.dept_code = x.dept_a
LEFT JOIN jf_dept_label AS db ON db.dept_code = x.dept_b
