-- form_usage — one row per county x month x form (dept_code, form_id) x form name: how the
-- county's units used the form that month, summed from its form_counts rows (any row, fill_count 0
-- included). The form catalog (form_catalog.sql) is computed from these rows, not from form_counts:
-- a county's resubmission recomputes only its own rows here, and the country-wide catalog then
-- reads one row per county, month and form instead of one per unit. SPEC.md section 15.
--
--   rows          form_counts rows; a unit has one row per form and month (the file's key),
--                 so rows summed over counties count units
--   units_filled  rows with fill_count >= 1
--   fills         sum of fill_count
--   hours         sum of hours_spent as an exact decimal (blanks skipped; NULL if all blank), so
--                 that sums of sums equal the sum of the rows whatever the order
--   frequency     the highest among the rows (daily > ... > once > adhoc)
--   field_count   the highest among the rows
--   items         the normalised data items (split on the list separators, each normalised,
--                 blanks dropped), the union over the rows, sorted
WITH usage AS (
    SELECT
        county_code, period, dept_code, form_id, form_name,
        count(*) AS rows,
        count(*) FILTER (WHERE fill_count >= 1) AS units_filled,
        CAST(sum(fill_count) AS BIGINT) AS fills,
        sum(CAST(hours_spent AS DECIMAL(38, 6))) AS hours,
        arg_max(frequency, coalesce(frequency_rank(frequency), 0)) AS frequency,
        max(field_count) AS field_count
    FROM form_rows
    GROUP BY ALL
),

-- each distinct item list split and normalised once (a form's rows normally share one list)
items AS (
    SELECT
        county_code, period, dept_code, form_id, form_name,
        list_sort(list_distinct(flatten(list(list_filter(
            list_transform(split_list(data_items), lambda item: norm_name(item)),
            lambda item: item <> ''))))) AS items
    FROM (
        SELECT DISTINCT county_code, period, dept_code, form_id, form_name,
               coalesce(data_items, '') AS data_items
        FROM form_rows
    )
    GROUP BY ALL
)

SELECT u.*, i.items
FROM usage AS u
JOIN items AS i USING (county_code, period, dept_code, form_id, form_name)
ORDER BY county_code, period, dept_code, form_id, form_name
