-- GROUP_DUPLICATE — severity warning — period YYYY-MM — subject `unit|owner_dept|gid1;gid2;...`
--
-- One unit has two or more work groups of one owner department whose names are equal after
-- normalisation (NFKC, lower case, no whitespace/punctuation/symbols, and no digits — so
-- "防汛工作群1" and "防汛工作群（2）" are one name). One flag per unit x department x name;
-- the group ids in the subject are sorted.
-- Thresholds: none. metric = number of groups, threshold = 2 (the smallest duplicate).
--
-- Only a unit's department with two or more groups can hold two of one name, so only their names
-- are normalised (a Python function: the costly part when a province has 100,000 groups).
WITH crowded AS (
    SELECT county_code, period, unit_code, owner_dept_code
    FROM group_rows
    GROUP BY ALL
    HAVING count(DISTINCT group_id) >= 2
),

same_name AS (
    SELECT
        county_code, period, unit_code, owner_dept_code, norm_group_name(group_name) AS name_norm,
        list(DISTINCT group_id ORDER BY group_id) AS group_ids,
        list(group_name ORDER BY group_id) AS group_names
    FROM group_rows
    SEMI JOIN crowded USING (county_code, period, unit_code, owner_dept_code)
    GROUP BY ALL
    HAVING count(DISTINCT group_id) >= 2
)

SELECT
    s.county_code,
    s.period,
    s.unit_code,
    s.owner_dept_code AS dept_code,
    s.unit_code || '|' || s.owner_dept_code || '|' || array_to_string(s.group_ids, ';') AS subject,
    len(s.group_ids) AS metric,
    2 AS threshold,
    format('{} {}建有{}个同名工作群：{}（群编号{}），建议合并',
           coalesce(u.label, s.unit_code), coalesce(d.label, s.owner_dept_code), len(s.group_ids),
           array_to_string(list_transform(s.group_names, lambda n: '「' || n || '」'), '、'),
           array_to_string(s.group_ids, '、')) AS detail
FROM same_name AS s
LEFT JOIN jf_unit_label AS u ON u.unit_code = s.unit_code
LEFT JOIN jf_dept_label AS d ON d.dept_code = s.owner_dept_code
