-- Open deals a later full export (import --full-snapshot) no longer had: deleted or merged in
-- the CRM. From that export's date on they count neither as open nor as closed (deals_as_of,
-- queries/macros/deals.sql).
--
-- grain: one row per date of such an export.
-- params: none; the whole warehouse as loaded.
-- columns: missing_since (date of the full export that lacked them), count_deals.
-- invariant: count_deals > 0

select
    missing_since::date as missing_since,
    count(*) as count_deals,
from deals
where outcome = 'open' and missing_since is not null
group by missing_since::date
order by missing_since
