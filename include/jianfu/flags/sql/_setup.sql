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

-- flag_id(rule, county_code, period, subject): the stable id of a flag (SPEC 8), the first 16 hex
-- digits of sha256 of `rule|county_code|period|subject` (an empty county for department flags).
-- The county is part of it because one subject can be flagged in two counties (a city form).
CREATE OR REPLACE TEMP MACRO flag_id(rule, county, period, subject) AS
    left(sha256(rule || '|' || coalesce(county, '') || '|' || period || '|' || subject), 16);

-- hours_sum(hours_spent): a sum of hours that does not depend on the order the rows are added in
-- (a sum of doubles does, in its last bits, when DuckDB adds in parallel): each value as a decimal
-- of 6 places, summed exactly. Equal inputs then give equal files, so an unchanged table is not
-- rewritten. NULL when every value is blank, as sum is.
CREATE OR REPLACE TEMP MACRO hours_sum(h) AS CAST(sum(CAST(h AS DECIMAL(38, 6))) AS DOUBLE);
