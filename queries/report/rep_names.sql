-- Display names of reps for charts and tables.
-- grain: one row per rep: rep_id, label ("name (rep_id)", or the id when unnamed).

with

reps as (select * from reps),

final as (
    select
        rep_id,
        case when name is null or trim(name) = '' then rep_id else name || ' (' || rep_id || ')' end as label,
    from reps
)

select * from final
order by rep_id
