-- Helpers shared by the rule files, created by the runner on the caller's connection before any
-- rule runs. Everything is TEMP: it lives and dies with the connection and never lands in the
-- warehouse. (split_list and the name normalisers norm_name / norm_group_name / nfkc_code are
-- registered from Python: see runner.py and normalize.py.)

-- in_scope(county_code): is this county among those being (re)computed?
-- getvariable('counties') is NULL for "every county". DuckDB folds the variable to a constant, so
-- over Hive-partitioned Parquet the filter prunes to the files of those counties.
CREATE OR REPLACE TEMP MACRO in_scope(c) AS
    getvariable('counties') IS NULL OR list_contains(getvariable('counties'), c);

-- period_end('2024-02') = DATE '2024-02-29': the last day of a 'YYYY-MM' period.
CREATE OR REPLACE TEMP MACRO period_end(p) AS last_day(CAST(p || '-01' AS DATE));

-- Names for the detail sentences, joined by the rule files (LEFT JOIN: the code stands in for an
-- unknown name). Materialised once per run, and only for the units of the counties in scope, so a
-- per-county run does not label the whole country.
-- jf_unit_label: a unit as a clerk names it, county + township + own name, e.g. 黄梅县小池镇,
-- 黄梅县小池镇滨江村.
CREATE OR REPLACE TEMP TABLE jf_unit_label AS
SELECT
    u.unit_code,
    CASE u.level
        WHEN 'county' THEN u.unit_name
        WHEN 'township' THEN coalesce(c.unit_name, '') || u.unit_name
        ELSE coalesce(c.unit_name, '') || coalesce(t.unit_name, '') || u.unit_name
    END AS label
FROM units AS u
LEFT JOIN units AS c ON c.unit_code = u.county_code || '000000'
LEFT JOIN units AS t ON t.unit_code = u.township_code AND u.level = 'village'
WHERE in_scope(u.county_code);

-- jf_dept_label: a department's name, e.g. 黄梅县农业农村局.
CREATE OR REPLACE TEMP TABLE jf_dept_label AS
SELECT dept_code, dept_name AS label
FROM departments;
