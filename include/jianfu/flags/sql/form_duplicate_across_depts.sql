-- FORM_DUPLICATE_ACROSS_DEPTS — severity warning — period YYYY-MM
-- subject `deptA:formA|deptB:formB` (A < B comparing the whole `dept:form` token)
--
-- Two forms of different departments, both filled (fill_count >= 1) by at least one same unit in
-- the month, that ask for the same thing: similarity >= form_similarity_min (default 0.6, inclusive).
-- Similarity: Jaccard of the two normalised data_items sets when both forms list items; otherwise
-- 1 if the normalised form names are equal (and not empty), else 0.
-- One flag per county x month x pair; detail names the units affected.
-- Thresholds: form_similarity_min. metric = similarity, threshold = form_similarity_min.
--
-- How it is read: a form is one department's form_id. The similarity is taken on what a unit
-- filled — that unit's two rows — so if rows of one form disagree between units (a unit given an
-- older version of the form), the pair fires when it is similar for at least one unit, and the
-- units named are those for which it is. Normally every row of a form carries the same name and
-- items, and each distinct pair of descriptions is compared once, not once per unit.
-- Pairs are found through the units that filled both (a self-join per unit), never by pairing all
-- forms of a county, so the cost follows the forms a unit actually fills.
WITH form_rows AS (
    SELECT *
    FROM form_counts
    WHERE in_scope(county_code)
),

filled AS (
    SELECT county_code, period, unit_code, dept_code, form_id, form_name,
           coalesce(data_items, '') AS data_items
    FROM form_rows
    WHERE fill_count >= 1
),

-- each distinct description of a form (normally one per form and month), normalised once:
-- data_items split on the list separators, each item normalised, empty items dropped
descriptions AS (
    SELECT
        *,
        norm_name(form_name) AS name_norm,
        list_sort(list_distinct(list_filter(
            list_transform(split_list(data_items), lambda item: norm_name(item)),
            lambda item: item <> ''))) AS items
    FROM (SELECT DISTINCT county_code, period, dept_code, form_id, form_name, data_items FROM filled)
),

-- pairs of forms of different departments filled by the same unit, per pair of descriptions
co_filled AS (
    SELECT
        a.county_code, a.period,
        a.dept_code AS dept_a, a.form_id AS form_a, a.form_name AS name_a, a.data_items AS items_a,
        b.dept_code AS dept_b, b.form_id AS form_b, b.form_name AS name_b, b.data_items AS items_b,
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
        CASE
            WHEN len(da.items) > 0 AND len(db.items) > 0
                THEN len(list_intersect(da.items, db.items))
                     / len(list_distinct(list_concat(da.items, db.items)))
            WHEN da.name_norm <> '' AND da.name_norm = db.name_norm THEN 1.0
            ELSE 0.0
        END AS similarity
    FROM co_filled AS p
    JOIN descriptions AS da
      ON (da.county_code, da.period, da.dept_code, da.form_id, da.form_name, da.data_items)
       = (p.county_code, p.period, p.dept_a, p.form_a, p.name_a, p.items_a)
    JOIN descriptions AS db
      ON (db.county_code, db.period, db.dept_code, db.form_id, db.form_name, db.data_items)
       = (p.county_code, p.period, p.dept_b, p.form_b, p.name_b, p.items_b)
),

-- one flag per form pair: the best similarity, and every unit for which it reaches the threshold
duplicates AS (
    SELECT
        county_code, period, dept_a, form_a, dept_b, form_b,
        max(similarity) AS similarity,
        min(name_a) AS name_a,
        min(name_b) AS name_b,
        list_sort(list_distinct(flatten(list(units)))) AS units
    FROM similarity
    WHERE similarity >= getvariable('form_similarity_min')
    GROUP BY ALL
),

-- the units, named, for the detail sentence (at most 10 named)
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
           d.period, coalesce(da.label, d.dept_a), d.name_a, coalesce(db.label, d.dept_b), d.name_b,
           printf('%.2f', d.similarity), getvariable('form_similarity_min'), len(d.units),
           n.unit_names, CASE WHEN len(d.units) > 10 THEN '等' ELSE '' END) AS detail
FROM duplicates AS d
JOIN named_units AS n USING (county_code, period, dept_a, form_a, dept_b, form_b)
LEFT JOIN jf_dept_label AS da ON da.dept_code = d.dept_a
LEFT JOIN jf_dept_label AS db ON db.dept_code = d.dept_b
