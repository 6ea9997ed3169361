-- Imports: every file loaded into the warehouse, when its export was taken, and what became
-- of its rows.
--
-- grain: one row per import (one file loaded once), in import order. No rows before the
--   first import.
-- params: none; the import log.
-- columns: import_id, file, table_name (the canonical table it fed), adapter, exported_at
--   (when the export was taken, null when unknown), rows_read, rows_loaded, rows_rejected,
--   share_rejected (rows_rejected / rows_read; null for an empty file), started_at, finished_at.
-- invariant: rows_loaded + rows_rejected = rows_read

with

imports as (select * from imports),

final as (
    select
        import_id,
        file,
        target_table as table_name,
        adapter,
        exported_at,
        rows_read,
        rows_loaded,
        rows_rejected,
        rows_rejected / nullif(rows_read, 0) as share_rejected,
        started_at,
        finished_at,
    from imports
)

select * from final
order by import_id
