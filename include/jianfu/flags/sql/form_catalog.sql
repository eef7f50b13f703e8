-- form_catalog — one row per form (dept_code, form_id) seen in form_counts in force in the 12
-- months up to the latest period in the warehouse: the burden inventory an office keeps, like the
-- US PRA inventory with its burden hours. SPEC.md section 15. Each form's own columns come from the
-- relation form_facts (form_facts.sql, one row per form); this file adds
--
--   overlap_group       forms of different departments whose similarity (section 8: Jaccard of
--                       the normalised items, each form's items being the union over its rows of
--                       its latest period; equal normalised names when one lists none) is >=
--                       form_similarity_min are linked; a connected set of two or more forms,
--                       across counties too, is one group, named by its smallest `dept:form_id`
-- Thresholds: form_similarity_min.

-- Similarity depends only on a form's normalised name and items, and the
-- template one department issues is usually filled in every county, so forms that read alike
-- share one description and descriptions, not forms, are compared: the work grows with the
-- number of different descriptions, not of forms.
-- A description is keyed by one string: normalised text holds no punctuation, so '#' and '|'
-- cannot occur in it and the key is unambiguous (and far cheaper to group by than a list).
WITH RECURSIVE described AS MATERIALIZED (
    SELECT
        dept_code, token, name_norm, items, name_norm || '#' || array_to_string(items, '|') AS description
    FROM (
        SELECT dept_code, dept_code || ':' || form_id AS token, norm_name(form_name) AS name_norm, items
        FROM form_facts
    )
),

-- one row per description: the smallest token of its forms (a group's name is the smallest token
-- of its forms), and its departments (forms link only across departments)
descriptions AS MATERIALIZED (
    SELECT
        row_number() OVER (ORDER BY min(token)) AS desc_id,
        description, any_value(name_norm) AS name_norm, any_value(items) AS items,
        len(any_value(items)) AS size,
        min(token) AS first_token,
        count(DISTINCT dept_code) AS depts,
        min(dept_code) AS dept
    FROM described
    GROUP BY description
),

-- Candidate pairs by a prefix filter (Chaudhuri et al. 2006; Bayardo et al. 2007): order items
-- rarest first; two sets with Jaccard >= t share at least ceil(t x |A|) items, so they share one
-- among the first |A| - ceil(t x |A|) + 1 items of A (and likewise of B). Items common to most
-- forms (单位名称) fall outside the prefixes and never produce a pair on their own. The 1e-9
-- keeps a product such as 0.7 x 10 = 7.000000000000001 from shortening a prefix.
item_rarity AS (
    SELECT item, count(*) AS forms
    FROM (SELECT unnest(items) AS item FROM descriptions)
    GROUP BY ALL
),

prefixes AS (
    SELECT desc_id, item
    FROM (
        SELECT d.desc_id, d.size, x.item,
               row_number() OVER (PARTITION BY d.desc_id ORDER BY r.forms, x.item) AS position
        FROM descriptions AS d, unnest(d.items) AS x(item)
        JOIN item_rarity AS r ON r.item = x.item
    )
    WHERE position <= size - ceil(getvariable('form_similarity_min') * size - 1e-9) + 1
),

candidates AS (
    SELECT a.desc_id AS desc_a, b.desc_id AS desc_b  -- a shared item among the prefixes
    FROM prefixes AS a
    JOIN prefixes AS b ON a.item = b.item AND a.desc_id < b.desc_id
    UNION
    SELECT a.desc_id, b.desc_id  -- equal names (they decide when a form lists no items)
    FROM descriptions AS a
    JOIN descriptions AS b ON a.name_norm = b.name_norm AND a.desc_id < b.desc_id
    WHERE a.name_norm <> '' AND (a.size = 0 OR b.size = 0)
    UNION
    SELECT a.desc_id, b.desc_id  -- every pair, only when even similarity 0 is enough
    FROM descriptions AS a
    JOIN descriptions AS b ON a.desc_id < b.desc_id
    WHERE getvariable('form_similarity_min') <= 0
),

-- similarity of a description with itself: 1 when it lists items or has a name, else 0
self_similar AS (
    SELECT desc_id, desc_id AS other
    FROM descriptions
    WHERE CASE WHEN size > 0 OR name_norm <> '' THEN 1.0 ELSE 0.0 END >= getvariable('form_similarity_min')
),

-- linked descriptions: similar enough, and holding forms of two departments between them (then
-- every form of both is linked to one of another department, directly or through the other's)
linked AS (
    SELECT c.desc_a, c.desc_b
    FROM candidates AS c
    JOIN descriptions AS da ON da.desc_id = c.desc_a
    JOIN descriptions AS db ON db.desc_id = c.desc_b
    WHERE (da.depts > 1 OR db.depts > 1 OR da.dept <> db.dept)
      AND CASE
              WHEN da.size > 0 AND db.size > 0  -- Jaccard: |A ∩ B| / |A ∪ B|
                  THEN len(list_intersect(da.items, db.items))
                       / (da.size + db.size - len(list_intersect(da.items, db.items)))
              WHEN da.name_norm <> '' AND da.name_norm = db.name_norm THEN 1.0
              ELSE 0.0
          END >= getvariable('form_similarity_min')
    UNION ALL  -- one description read alike by forms of two departments links them
    SELECT s.desc_id, s.other
    FROM self_similar AS s
    JOIN descriptions AS d USING (desc_id)
    WHERE d.depts > 1
),

edges AS (
    SELECT desc_a AS node, desc_b AS other FROM linked
    UNION
    SELECT desc_b, desc_a FROM linked
),

-- connected sets: every linked description starts with its smallest token as label and takes the
-- smallest label of its neighbours until no label changes (USING KEY keeps one row per
-- description; each round passes on only the labels that changed in the round before)
overlap(node, overlap_group) USING KEY (node) AS (
    SELECT DISTINCT e.node, d.first_token
    FROM edges AS e
    JOIN descriptions AS d ON d.desc_id = e.node
    UNION
    SELECT e.node, min(changed.overlap_group)
    FROM overlap AS changed
    JOIN edges AS e ON e.other = changed.node
    JOIN recurring.overlap AS current ON current.node = e.node
    GROUP BY e.node, current.overlap_group
    HAVING min(changed.overlap_group) < current.overlap_group
),

form_groups AS (
    SELECT f.token, o.overlap_group
    FROM described AS f
    JOIN descriptions AS d USING (description)
    JOIN overlap AS o ON o.node = d.desc_id
)

SELECT
    f.* EXCLUDE (items),
    g.overlap_group,
    f.items
FROM form_facts AS f
LEFT JOIN form_groups AS g ON g.token = f.dept_code || ':' || f.form_id
ORDER BY f.dept_code, f.form_id
