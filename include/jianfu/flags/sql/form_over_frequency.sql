-- FORM_OVER_FREQUENCY — severity warning — period YYYY-MM — subject `unit|dept|form_id`
--
-- A unit filled one form more often in the month than the form's frequency allows:
--   daily                                          -> as many times as the month has days
--   weekly                                         -> 5 times
--   monthly, quarterly, semiannual, annual, once   -> 1 time
--   adhoc                                          -> no limit, never flagged
-- Fires when fill_count > allowed (equal to the allowance is fine).
-- Thresholds: none in rules.yaml; the allowance follows from the frequency.
-- metric = fill_count, threshold = allowed.
WITH allowance AS (
    SELECT
        *,
        CASE frequency
            WHEN 'daily' THEN day(period_end(period))
            WHEN 'weekly' THEN 5
            WHEN 'monthly' THEN 1
            WHEN 'quarterly' THEN 1
            WHEN 'semiannual' THEN 1
            WHEN 'annual' THEN 1
            WHEN 'once' THEN 1
            -- 'adhoc': no allowance, never over it
        END AS allowed,
        MAP {'daily': '每日', 'weekly': '每周', 'monthly': '每月', 'quarterly': '每季度',
             'semiannual': '每半年', 'annual': '每年', 'once': '一次性'}[frequency] AS frequency_zh
    FROM form_rows
),

over_frequency AS (
    SELECT *
    FROM allowance
    WHERE fill_count > allowed
)

SELECT
    o.county_code,
    o.period,
    o.unit_code,
    o.dept_code,
    o.unit_code || '|' || o.dept_code || '|' || o.form_id AS subject,
    o.fill_count AS metric,
    o.allowed AS threshold,
    format('{} {}填报{}《{}》{}次，超过{}频次允许的{}次',
           coalesce(u.label, o.unit_code), o.period, coalesce(d.label, o.dept_code), o.form_name,
           o.fill_count, o.frequency_zh, o.allowed) AS detail
FROM over_frequency AS o
LEFT JOIN jf_unit_label AS u ON u.unit_code = o.unit_code
LEFT JOIN jf_dept_label AS d ON d.dept_code = o.dept_code
