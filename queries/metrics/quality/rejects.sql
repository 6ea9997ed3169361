-- Rejected rows: what the imports refused, by file and reason.
--
-- grain: one row per (file, reason), with the canonical table the file fed (null when the
--   reject's import is not in the import log); files in name order, then the most rejected
--   rows first, ties by reason. No rows when nothing was ever rejected.
-- params: none; every import in the warehouse.
-- columns: file, table_name (imports.target_table), reason, count_rejected_rows (rows of the
--   file refused for this reason; a row refused for two reasons counts under each),
--   count_rejected_values (reject records: one per refused value, a row may have several).
-- invariant: count_rejected_rows <= count_rejected_values
-- invariant (not checked): per import, distinct rejected lines = imports.rows_rejected (the import log)

with

imports as (select * from imports),

rejects as (select * from rejects),

rejected as (
    select
        rejects.file,
        imports.target_table as table_name,
        rejects.reason,
        rejects.import_id,
        rejects.line,
    from rejects
    left join imports on rejects.import_id = imports.import_id
),

final as (
    select
        file,
        table_name,
        reason,
        count(distinct (import_id, line)) as count_rejected_rows,  -- noqa: ST08, LT01, LT06
        count(*) as count_rejected_values,
    from rejected
    group by file, table_name, reason
)

select * from final
order by file asc, count_rejected_rows desc, reason asc, table_name asc
