-- INSPECTION_REPEATED_TOPIC — severity warning — period YYYY — subject `dept|target|item1;item2;...`
--
-- One department visits one target two or more times in a year on the same topic: visits (rows
-- not cancelled) of the department to the target in the plan year whose topics are equal after
-- normalisation (NFKC, lower case, no whitespace/punctuation/symbols). One flag per
-- department x target x year x topic; the item ids in the subject are sorted.
-- Thresholds: none. metric = visits, threshold = 2 (the smallest repetition).
WITH repeated AS (
    SELECT
        county_code, year, dept_code, target_unit_code, topic_norm,
        count(DISTINCT item_id) AS visits,
        min(topic) AS topic,
        list(DISTINCT item_id ORDER BY item_id) AS item_ids
    FROM visits
    GROUP BY ALL
    HAVING count(DISTINCT item_id) >= 2
)

SELECT
    r.county_code,
    CAST(r.year AS VARCHAR) AS period,
    r.target_unit_code AS unit_code,
    r.dept_code,
    r.dept_code || '|' || r.target_unit_code || '|' || array_to_string(r.item_ids, ';') AS subject,
    r.visits AS metric,
    2 AS threshold,
    format('{} {}年对{}就「{}」重复开展{}次（事项{}），建议合并',
           coalesce(d.label, r.dept_code), r.year, coalesce(u.label, r.target_unit_code), r.topic,
           r.visits, array_to_string(r.item_ids, '、')) AS detail
FROM repeated AS r
LEFT JOIN jf_unit_label AS u ON u.unit_code = r.target_unit_code
LEFT JOIN jf_dept_label AS d ON d.dept_code = r.dept_code
