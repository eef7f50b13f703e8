-- form_facts — each form's row of the form catalog but its overlap group (SPEC.md section 15),
-- from form_usage (form_usage.sql: one row per county, month, form and form name), which sums
-- form_counts without losing anything these columns need. A form's row depends only on its own
-- form_usage rows and on the warehouse's latest month, so after a county's resubmission only the
-- forms that county fills (before or after) are computed again: those of the relation
-- catalog_scope (dept_code, form_id), or every form when the variable all_forms is true.
-- form_catalog.sql adds the overlap groups, which link forms across the country.
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
--   items               its normalised data items in its latest period (the union over that
--                       period's rows, sorted): what its similarity to other forms is taken on
WITH bounds AS (
    SELECT
        max(period) AS latest,
        strftime(CAST(max(period) || '-01' AS DATE) - INTERVAL 11 MONTH, '%Y-%m') AS first_month
    FROM form_usage
),

scoped AS (
    SELECT *
    FROM form_usage AS f
    WHERE getvariable('all_forms')
       OR EXISTS (SELECT 1 FROM catalog_scope AS s WHERE s.dept_code = f.dept_code AND s.form_id = f.form_id)
),

seen AS (
    SELECT f.*
    FROM scoped AS f, bounds AS b
    WHERE f.period BETWEEN b.first_month AND b.latest
),

totals AS (
    SELECT
        dept_code, form_id,
        count(DISTINCT county_code) AS counties,
        CAST(sum(fills) AS BIGINT) AS responses_12m,
        CAST(sum(hours) AS DOUBLE) AS hours_12m,
        max(period) AS last_period
    FROM seen
    GROUP BY ALL
),

first_seen AS (
    SELECT dept_code, form_id, min(period) AS first_period
    FROM scoped
    GROUP BY ALL
),

latest_rows AS (
    SELECT s.*
    FROM seen AS s
    JOIN totals AS t ON t.dept_code = s.dept_code AND t.form_id = s.form_id AND s.period = t.last_period
),

latest_name AS (
    SELECT dept_code, form_id, form_name
    FROM (SELECT dept_code, form_id, form_name, sum(rows) AS uses FROM latest_rows GROUP BY ALL)
    QUALIFY row_number() OVER (PARTITION BY dept_code, form_id ORDER BY uses DESC, form_name) = 1
),

latest_facts AS (
    SELECT
        dept_code, form_id,
        arg_max(frequency, coalesce(frequency_rank(frequency), 0)) AS frequency,
        max(field_count) AS field_count,
        CAST(sum(units_filled) AS BIGINT) AS units_latest,
        list_sort(list_distinct(flatten(list(items)))) AS items
    FROM latest_rows
    GROUP BY ALL
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
    l.items
FROM totals AS t
CROSS JOIN bounds AS b
JOIN latest_name AS n USING (dept_code, form_id)
JOIN latest_facts AS l USING (dept_code, form_id)
JOIN first_seen AS fs USING (dept_code, form_id)
ORDER BY t.dept_code, t.form_id
