-- Staging views: what the rule, burden and reduction files select from, so that "a visit", "a
-- form row of the counties in scope" and "a zombie group" are each written once (as the stg_
-- models of a dbt project are). Created by the runner after _setup.sql; TEMP, like everything
-- there. Unused columns cost nothing: DuckDB drops them from a view's plan.

-- form_rows: the form_counts rows of the counties in scope.
CREATE OR REPLACE TEMP VIEW form_rows AS
SELECT *
FROM form_counts
WHERE in_scope(county_code);

-- group_rows: the work_groups rows of the counties in scope, with their period's last day, the
-- days since the group was last active, and whether that makes it a zombie (SPEC 8: >= zombie_days).
-- (The normalised name, norm_group_name, is taken by GROUP_DUPLICATE for the few groups it compares.)
CREATE OR REPLACE TEMP VIEW group_rows AS
SELECT
    *,
    period_end(period) AS period_end,
    period_end(period) - last_active_date AS days_inactive,
    period_end(period) - last_active_date >= getvariable('zombie_days') AS zombie
FROM work_groups
WHERE in_scope(county_code);

-- all_visits: a visit is an inspections row whose status is not cancelled (SPEC 8), of every
-- county (department quotas count across counties), dated by eff_date.
CREATE OR REPLACE TEMP VIEW all_visits AS
SELECT *
FROM inspections
WHERE status <> 'cancelled';

-- visits: the visits of the counties in scope, with the normalised topic, the `dept:item` token
-- and the partner departments named in joint_depts (NFKC, trimmed, upper case).
CREATE OR REPLACE TEMP VIEW visits AS
SELECT
    *,
    norm_name(topic) AS topic_norm,
    dept_code || ':' || item_id AS token,
    coalesce(list_transform(split_list(joint_depts), lambda d: nfkc_code(d)), []) AS partners
FROM all_visits
WHERE in_scope(county_code);
