-- FORM_DUPLICATE_ACROSS_DEPTS — severity warning — period YYYY-MM
-- subject `deptA:formA|deptB:formB` (A < B comparing the whole `dept:form` token)
--
-- Two forms of different departments, both filled (fill_count >= 1) by at least one same unit in
-- the month, that ask for the same thing: similarity >= form_similarity_min (default 0.6, inclusive).
-- Similarity: Jaccard of the two normalised data_items sets when both forms list items; otherwise
-- 1 if the normalised form names are equal (and not empty), else 0.
-- One flag per county x month x pair; detail names the units affected. At most
-- form_duplicate_max_pairs (default 5000) per county x month, the most similar first, ties by
-- subject; the extra column similar_pairs (all of them) lets the builder say how many were cut.
-- Thresholds: form_similarity_min, form_duplicate_max_pairs. metric = similarity,
-- threshold = form_similarity_min.
--
-- How it is read: a form is one department's form_id. The similarity is taken on what a unit
-- filled — that unit's two rows — so if rows of one form disagree between units (a unit given an
-- older version of the form), the pair fires when it is similar for at least one unit, and the
-- units named are those for which it is. Normally every row of a form carries the same name and
-- items, and each distinct pair of descriptions is compared once, not once per unit.
-- Cost: forms are never paired blindly. Candidate pairs are those sharing a normalised item (an
-- inverted index: join on the item) or a normalised name; only those get a similarity, and only
-- the similar ones are checked for a unit that filled both. (With form_similarity_min <= 0 every
-- pair of a county-month is a candidate, as the rule then says.)
WITH filled AS (
    SELECT county_code, period, unit_code, dept_code, form_id, form_name,
           coalesce(data_items, '') AS data_items
    FROM form_rows
    WHERE fill_count >= 1
),

-- each distinct description of a form (normally one per form and month) with the units that
-- filled it, normalised once: data_items split on the list separators, each item normalised,
-- empty items dropped. desc_id and token_rank are small integers standing for the description
-- and for its `dept:form` token (ranked in the token's sort order), so pairs join on numbers.
descriptions AS MATERIALIZED (  -- computed once: the normalisers are Python functions
    SELECT
        *,
        row_number() OVER () AS desc_id,
        dense_rank() OVER (ORDER BY dept_code || ':' || form_id) AS token_rank,
        norm_name(form_name) AS name_norm,
        list_sort(list_distinct(list_filter(
            list_transform(split_list(data_items), lambda item: norm_name(item)),
            lambda item: item <> ''))) AS items
    FROM (
        SELECT county_code, period, dept_code, form_id, form_name, data_items, list(unit_code) AS units
        FROM filled
        GROUP BY ALL
    )
),

description_items AS (
    SELECT desc_id, county_code, period, dept_code, token_rank, unnest(items) AS item
    FROM descriptions
),

-- pairs of descriptions of different departments with items in common, and how many
shared_items AS (
    SELECT a.desc_id AS desc_a, b.desc_id AS desc_b, count(*) AS shared
    FROM description_items AS a
    JOIN description_items AS b
      ON a.county_code = b.county_code
     AND a.period = b.period
     AND a.item = b.item
     AND a.dept_code <> b.dept_code
     AND a.token_rank < b.token_rank
    GROUP BY ALL
),

candidates AS (
    SELECT desc_a, desc_b FROM shared_items
    UNION
    SELECT a.desc_id, b.desc_id  -- equal names (they decide when a form lists no items)
    FROM descriptions AS a
    JOIN descriptions AS b
      ON a.county_code = b.county_code
     AND a.period = b.period
     AND a.name_norm = b.name_norm
     AND a.dept_code <> b.dept_code
     AND a.token_rank < b.token_rank
    WHERE a.name_norm <> ''
    UNION
    SELECT a.desc_id, b.desc_id  -- every pair, only when even similarity 0 is enough
    FROM descriptions AS a
    JOIN descriptions AS b
      ON a.county_code = b.county_code
     AND a.period = b.period
     AND a.dept_code <> b.dept_code
     AND a.token_rank < b.token_rank
    WHERE getvariable('form_similarity_min') <= 0
),

similarity AS (
    SELECT
        c.desc_a, c.desc_b,
        da.county_code, da.period,
        da.dept_code AS dept_a, da.form_id AS form_a, da.form_name AS name_a,
        db.dept_code AS dept_b, db.form_id AS form_b, db.form_name AS name_b,
        CASE
            WHEN len(da.items) > 0 AND len(db.items) > 0  -- Jaccard: |A ∩ B| / |A ∪ B|
                THEN coalesce(s.shared, 0) / (len(da.items) + len(db.items) - coalesce(s.shared, 0))
            WHEN da.name_norm <> '' AND da.name_norm = db.name_norm THEN 1.0
            ELSE 0.0
        END AS similarity
    FROM candidates AS c
    JOIN descriptions AS da ON da.desc_id = c.desc_a
    JOIN descriptions AS db ON db.desc_id = c.desc_b
    LEFT JOIN shared_items AS s ON s.desc_a = c.desc_a AND s.desc_b = c.desc_b
),

similar_pairs AS (
    SELECT *
    FROM similarity
    WHERE similarity >= getvariable('form_similarity_min')
),

-- the units that filled both descriptions of a similar pair (none: not a duplicate after all)
affected AS (
    SELECT s.*, unnest(list_intersect(ua.units, ub.units)) AS unit_code
    FROM similar_pairs AS s
    JOIN descriptions AS ua ON ua.desc_id = s.desc_a
    JOIN descriptions AS ub ON ub.desc_id = s.desc_b
),

-- one flag per form pair: the best similarity, and every unit for which it reaches the threshold
duplicates AS (
    SELECT
        county_code, period, dept_a, form_a, dept_b, form_b,
        max(similarity) AS similarity,
        min(name_a) AS name_a,
        min(name_b) AS name_b,
        list(DISTINCT unit_code ORDER BY unit_code) AS units
    FROM affected
    GROUP BY county_code, period, dept_a, form_a, dept_b, form_b
),

-- the cap: at most form_duplicate_max_pairs flags per county x month, the most similar first
-- (ties by subject); similar_pairs tells the builder how many there were, so it can say how
-- many were cut
ranked AS (
    SELECT
        *,
        dept_a || ':' || form_a || '|' || dept_b || ':' || form_b AS subject,
        count(*) OVER (PARTITION BY county_code, period) AS similar_pairs
    FROM duplicates
    QUALIFY row_number() OVER (PARTITION BY county_code, period ORDER BY similarity DESC, subject)
            <= getvariable('form_duplicate_max_pairs')
),

-- the units, named, for the detail sentence (at most 10 named)
named_units AS (
    SELECT
        d.county_code, d.period, d.dept_a, d.form_a, d.dept_b, d.form_b,
        string_agg(coalesce(l.label, u.unit_code), '、' ORDER BY u.unit_code)
            FILTER (WHERE u.pos <= 10) AS unit_names
    FROM ranked AS d,
         unnest(d.units) WITH ORDINALITY AS u(unit_code, pos)
    LEFT JOIN jf_unit_label AS l ON l.unit_code = u.unit_code
    GROUP BY ALL
)

SELECT
    d.county_code,
    d.period,
    NULL AS unit_code,
    NULL AS dept_code,
    d.subject,
    d.similarity AS metric,
    getvariable('form_similarity_min') AS threshold,
    format('{} {}《{}》与{}《{}》内容重复（相似度{}，阈值{}），{}个单位两表都填：{}{}',
           d.period, coalesce(da.label, d.dept_a), d.name_a, coalesce(db.label, d.dept_b), d.name_b,
           printf('%.2f', d.similarity), getvariable('form_similarity_min'), len(d.units),
           n.unit_names, CASE WHEN len(d.units) > 10 THEN '等' ELSE '' END) AS detail,
    d.similar_pairs
FROM ranked AS d
JOIN named_units AS n USING (county_code, period, dept_a, form_a, dept_b, form_b)
LEFT JOIN jf_dept_label AS da ON da.dept_code = d.dept_a
LEFT JOIN jf_dept_label AS db ON db.dept_code = d.dept_b
