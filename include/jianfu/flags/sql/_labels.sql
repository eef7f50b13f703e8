-- Labels for the detail sentences of the flag rules, created by the runner on the caller's
-- connection after _setup.sql (TEMP, like everything there). Only the rule files join them;
-- the burden index does not, so it is computed without them.

-- Names for the detail sentences, joined by the rule files (LEFT JOIN: the code stands in for an
-- unknown name). Materialised once per run, and only for the units of the counties in scope, so a
-- per-county run does not label the whole country.
-- jf_unit_label: a unit as a clerk names it, county + township + own name, e.g. 黄梅县小池镇,
-- 黄梅县小池镇滨江村.
-- A unit's county and township are units of its own county, so all three sides of the join are
-- the units in scope (read once, not the whole country three times).
CREATE OR REPLACE TEMP TABLE jf_unit_label AS
-- Country-wide work that names no unit (quota usage, the form catalog) sets label_units false
-- and skips reading every unit of the country.
WITH scoped AS (
    SELECT unit_code, unit_name, level, county_code, township_code
    FROM units
    WHERE in_scope(county_code) AND getvariable('label_units')
)
SELECT
    u.unit_code,
    CASE u.level
        WHEN 'county' THEN u.unit_name
        WHEN 'township' THEN coalesce(c.unit_name, '') || u.unit_name
        ELSE coalesce(c.unit_name, '') || coalesce(t.unit_name, '') || u.unit_name
    END AS label
FROM scoped AS u
LEFT JOIN scoped AS c ON c.unit_code = u.county_code || '000000'
LEFT JOIN scoped AS t ON t.unit_code = u.township_code AND u.level = 'village';

-- jf_dept_label: a department's name, e.g. 黄梅县农业农村局.
CREATE OR REPLACE TEMP TABLE jf_dept_label AS
SELECT dept_code, dept_name AS label
FROM departments;
