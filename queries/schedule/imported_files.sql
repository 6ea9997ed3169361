-- Which of the export files a job would import are in the import log already, by content.
-- grain: one row per sha256 of $sha256s (a list of hex digests) that an earlier import recorded.

with

imports as (select * from imports),

final as (
    select distinct sha256,
    from imports
    where list_contains($sha256s::varchar [], sha256)
)

select * from final
order by sha256
