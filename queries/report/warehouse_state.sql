-- Which published state of the warehouse a connection reads: the imports it holds. Two
-- connections that return the same row read the same state (an import adds a row).
--
-- grain: one row.
-- params: none.
-- invariants: count_imports >= 0; last_finished_at is null only when count_imports = 0.

with

imports as (select * from imports),

final as (
    select
        count(*) as count_imports,
        max(finished_at) as last_finished_at,
    from imports
)

select * from final
