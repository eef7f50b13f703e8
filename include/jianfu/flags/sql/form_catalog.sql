-- form_catalog — one row per form (dept_code, form_id) seen in form_counts in force in the 12
-- months up to the latest period in the warehouse (any row, fill_count 0 included): the burden
-- inventory an office keeps, like the US PRA inventory with its burden hours. SPEC.md section 15.
--
--   form_name           of its latest period: the most common name among that period's rows
--                       (ties: the first in sort order)
--   frequency           of its latest period, the highest (daily > ... > once > adhoc)
--   field_count         of its latest period, the highest
--   counties            counties whose form_counts hold it in the 12 months
--   units_latest        units with fill_count >= 1 in its latest period
--   responses_12m       sum of fill_count over the 12 months
--   hours_12m           sum of hours_spent over the 12 months (blanks skipped; NULL if all blank)
--   hours_per_response  hours_12m / responses_12m, NULL when there are no responses
--   first_period        the first month any form_counts in force holds it (not only the 12)
--   last_period         its latest month; active = last_period is the warehouse's latest month
--   overlap_group       forms of different departments whose similarity (section 8: Jaccard of
--                       the normalised items, each form's items being the union over its rows of
--                       its latest period; equal normalised names when one lists none) is >=
--                       form_similarity_min are linked; a connected set of two or more forms,
--                       across counties too, is one group, named by its smallest `dept:form_id`
-- Thresholds: form_similarity_min. Reads every county (it is prepared with no county scope).
WITH RECURSIVE bounds AS (
    SELECT
        max(period) AS latest,
        strftime(CAST(max(period) || '-01' AS DATE) - INTERVAL 11 MONTH, '%Y-%m') AS first_month
    FROM form_rows
),

seen AS (
    SELECT f.*
    FROM form_rows AS f, bounds AS b
    WHERE f.period BETWEEN b.first_month AND b.latest
),

totals AS (
    SELECT
        dept_code, form_id,
        count(DISTINCT county_code) AS counties,
        CAST(sum(fill_count) AS BIGINT) AS responses_12m,
        hours_sum(hours_spent) AS hours_12m,
        max(period) AS last_period
    FROM seen
    GROUP BY ALL
),

first_seen AS (
    SELECT dept_code, form_id, min(period) AS first_period
    FROM form_rows
    GROUP BY ALL
),

latest_rows AS (
    SELECT s.*
    FROM seen AS s
    JOIN totals AS t ON t.dept_code = s.dept_code AND t.form_id = s.form_id AND s.period = t.last_period
),

latest_name AS (
    SELECT dept_code, form_id, form_name
    FROM (SELECT dept_code, form_id, form_name, count(*) AS uses FROM latest_rows GROUP BY ALL)
    QUALIFY row_number() OVER (PARTITION BY dept_code, form_id ORDER BY uses DESC, form_name) = 1
),

latest_facts AS (
    SELECT
        dept_code, form_id,
        arg_max(frequency, coalesce(frequency_rank(frequency), 0)) AS frequency,
        max(field_count) AS field_count,
        count(DISTINCT unit_code) FILTER (WHERE fill_count >= 1) AS units_latest
    FROM latest_rows
    GROUP BY ALL
),

-- each form's items in its latest period: the union over its rows, each distinct list split and
-- normalised once (the rows of a form normally all carry the same list)
latest_items AS (
    SELECT
        dept_code, form_id,
        list_sort(list_distinct(flatten(list(list_filter(
            list_transform(split_list(data_items), lambda item: norm_name(item)),
            lambda item: item <> ''))))) AS items
    FROM (SELECT DISTINCT dept_code, form_id, coalesce(data_items, '') AS data_items FROM latest_rows)
    GROUP BY ALL
),

-- what similarity is taken on: each form's token, normalised name and items
described AS MATERIALIZED (
    SELECT
        f.dept_code, f.form_id, f.dept_code || ':' || f.form_id AS token,
        norm_name(n.form_name) AS name_norm, f.items
    FROM latest_items AS f
    JOIN latest_name AS n USING (dept_code, form_id)
),

-- an index of items: only forms that share an item (or a name) are ever compared
item_index AS (
    SELECT token, dept_code, unnest(items) AS item
    FROM described
),

shared_items AS (
    SELECT a.token AS token_a, b.token AS token_b, count(*) AS shared
    FROM item_index AS a
    JOIN item_index AS b ON a.item = b.item AND a.dept_code <> b.dept_code AND a.token < b.token
    GROUP BY ALL
),

candidates AS (
    SELECT token_a, token_b FROM shared_items
    UNION
    SELECT a.token, b.token  -- equal names (they decide when a form lists no items)
    FROM described AS a
    JOIN described AS b ON a.name_norm = b.name_norm AND a.dept_code <> b.dept_code AND a.token < b.token
    WHERE a.name_norm <> ''
    UNION
    SELECT a.token, b.token  -- every pair, only when even similarity 0 is enough
    FROM described AS a
    JOIN described AS b ON a.dept_code <> b.dept_code AND a.token < b.token
    WHERE getvariable('form_similarity_min') <= 0
),

linked AS (
    SELECT c.token_a, c.token_b
    FROM candidates AS c
    JOIN described AS da ON da.token = c.token_a
    JOIN described AS db ON db.token = c.token_b
    LEFT JOIN shared_items AS s ON s.token_a = c.token_a AND s.token_b = c.token_b
    WHERE CASE
              WHEN len(da.items) > 0 AND len(db.items) > 0  -- Jaccard: |A ∩ B| / |A ∪ B|
                  THEN coalesce(s.shared, 0) / (len(da.items) + len(db.items) - coalesce(s.shared, 0))
              WHEN da.name_norm <> '' AND da.name_norm = db.name_norm THEN 1.0
              ELSE 0.0
          END >= getvariable('form_similarity_min')
),

edges AS (
    SELECT token_a AS token, token_b AS other FROM linked
    UNION ALL
    SELECT token_b, token_a FROM linked
),

-- connected sets: every linked form starts with its own token as label and takes the smallest
-- label of its neighbours until no label changes (USING KEY keeps one row per form; each round
-- passes on only the labels that changed in the round before)
overlap(token, overlap_group) USING KEY (token) AS (
    SELECT DISTINCT token, token FROM edges
    UNION
    SELECT e.token, min(changed.overlap_group)
    FROM overlap AS changed
    JOIN edges AS e ON e.other = changed.token
    JOIN recurring.overlap AS current ON current.token = e.token
    GROUP BY e.token, current.overlap_group
    HAVING min(changed.overlap_group) < current.overlap_group
)

SELECT
    t.dept_code,
    t.form_id,
    n.form_name,
    l.frequency,
    l.field_count,
    t.counties,
    l.units_latest,
    t.responses_12m,
    t.hours_12m,
    CASE WHEN t.responses_12m > 0 THEN t.hours_12m / t.responses_12m END AS hours_per_response,
    fs.first_period,
    t.last_period,
    t.last_period = b.latest AS active,
    o.overlap_group
FROM totals AS t
CROSS JOIN bounds AS b
JOIN latest_name AS n USING (dept_code, form_id)
JOIN latest_facts AS l USING (dept_code, form_id)
JOIN first_seen AS fs USING (dept_code, form_id)
LEFT JOIN overlap AS o ON o.token = t.dept_code || ':' || t.form_id
ORDER BY t.dept_code, t.form_id
