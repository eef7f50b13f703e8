-- FORM_DUPLICATE_ACROSS_DEPTS — severity warning — period YYYY-MM
-- subject `deptA:formA|deptB:formB` (A < B comparing the whole `dept:form` token)
--
-- Two forms of different departments, both filled (fill_count >= 1) by at least one same unit in
-- the month, that ask for the same thing: similarity >= form_similarity_min (default 0.6, inclusive).
-- Similarity: Jaccard of the two normalised data_items sets when both forms list items; otherwise
-- 1 if the normalised form names are equal, else 0.
-- One flag per county x month x pair; detail names the units that filled both.
-- Thresholds: form_similarity_min. metric = similarity, threshold = form_similarity_min.
--
-- How a "form" is read: one department's form_id in one county and month. Its item set is every
-- item listed for it on any row that month (normally all rows carry the same list); its name for the
-- comparison is its normalised form_name (the smallest one, should rows disagree).
-- Pairs are found through the units that filled both (a self-join per unit), never by pairing all
-- forms of a county, so the cost follows the forms a unit actually fills.
WITH form_rows AS (
    SELECT *
    FROM form_counts
    WHERE in_scope(county_code)
),

forms AS (
    SELECT
        county_code, period, dept_code, form_id,
        min(form_name) AS form_name,
        min(norm_name(form_name)) AS name_norm
    FROM form_rows
    GROUP BY ALL
),

-- data_items split on the list separators, then normalised; items that normalise to '' are dropped
item_lists AS (
    SELECT DISTINCT county_code, period, dept_code, form_id, data_items
    FROM form_rows
    WHERE data_items IS NOT NULL
),

items AS (
    SELECT county_code, period, dept_code, form_id, norm_name(raw_item) AS item
    FROM (
        SELECT county_code, period, dept_code, form_id, unnest(split_list(data_items)) AS raw_item
        FROM item_lists
    )
),

form_items AS (
    SELECT county_code, period, dept_code, form_id, list_sort(list_distinct(list(item))) AS items
    FROM items
    WHERE item <> ''
    GROUP BY ALL
),

filled AS (
    SELECT county_code, period, unit_code, dept_code, form_id
    FROM form_rows
    WHERE fill_count >= 1
),

-- pairs of forms of different departments filled by at least one same unit
pairs AS (
    SELECT
        a.county_code, a.period,
        a.dept_code AS dept_a, a.form_id AS form_a,
        b.dept_code AS dept_b, b.form_id AS form_b,
        list(a.unit_code ORDER BY a.unit_code) AS units
    FROM filled AS a
    JOIN filled AS b
      ON a.county_code = b.county_code
     AND a.period = b.period
     AND a.unit_code = b.unit_code
     AND a.dept_code <> b.dept_code
     AND a.dept_code || ':' || a.form_id < b.dept_code || ':' || b.form_id
    GROUP BY ALL
),

similarity AS (
    SELECT
        p.*,
        fa.form_name AS name_a, fb.form_name AS name_b,
        CASE
            WHEN len(ia.items) > 0 AND len(ib.items) > 0
                THEN len(list_intersect(ia.items, ib.items))
                     / len(list_distinct(list_concat(ia.items, ib.items)))
            WHEN fa.name_norm = fb.name_norm THEN 1.0
            ELSE 0.0
        END AS similarity
    FROM pairs AS p
    JOIN forms AS fa
      ON (fa.county_code, fa.period, fa.dept_code, fa.form_id) = (p.county_code, p.period, p.dept_a, p.form_a)
    JOIN forms AS fb
      ON (fb.county_code, fb.period, fb.dept_code, fb.form_id) = (p.county_code, p.period, p.dept_b, p.form_b)
    LEFT JOIN form_items AS ia
      ON (ia.county_code, ia.period, ia.dept_code, ia.form_id) = (p.county_code, p.period, p.dept_a, p.form_a)
    LEFT JOIN form_items AS ib
      ON (ib.county_code, ib.period, ib.dept_code, ib.form_id) = (p.county_code, p.period, p.dept_b, p.form_b)
),

duplicates AS (
    SELECT *
    FROM similarity
    WHERE similarity >= getvariable('form_similarity_min')
),

-- the units that filled both forms, named, for the detail sentence (at most 10 named)
named_units AS (
    SELECT
        d.county_code, d.period, d.dept_a, d.form_a, d.dept_b, d.form_b,
        string_agg(coalesce(l.label, u.unit_code), '、' ORDER BY u.unit_code)
            FILTER (WHERE u.pos <= 10) AS unit_names
    FROM duplicates AS d,
         unnest(d.units) WITH ORDINALITY AS u(unit_code, pos)
    LEFT JOIN jf_unit_label AS l ON l.unit_code = u.unit_code
    GROUP BY ALL
)

SELECT
    'FORM_DUPLICATE_ACROSS_DEPTS' AS rule,
    'warning' AS severity,
    d.county_code,
    d.period,
    NULL AS unit_code,
    NULL AS dept_code,
    d.dept_a || ':' || d.form_a || '|' || d.dept_b || ':' || d.form_b AS subject,
    d.similarity AS metric,
    getvariable('form_similarity_min') AS threshold,
    format('{} {}《{}》与{}《{}》内容重复（相似度{}，阈值{}），{}个单位两表都填：{}{}',
           d.period, dept_name(d.dept_a), d.name_a, dept_name(d.dept_b), d.name_b,
           printf('%.2f', d.similarity), getvariable('form_similarity_min'), len(d.units),
           n.unit_names, CASE WHEN len(d.units) > 10 THEN '等' ELSE '' END) AS detail
FROM duplicates AS d
JOIN named_units AS n USING (county_code, period, dept_a, form_a, dept_b, form_b)
