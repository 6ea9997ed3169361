-- Parsing of exported text values into canonical types, used by every mapped import.
-- Loaded as temporary macros on the import's connection. Each returns null for a value it
-- cannot read; the importer turns "present but unreadable" into a reject, never a null.
-- The body of each scalar macro is indented under its `create`; sqlfluff's duckdb dialect
-- wants it at column 0, so its indentation rule is off in this file.
-- noqa: disable=LT02

-- amounts: 1234.50 · 1,234.50 · ¥1,234.50 · ￥1234 · $1,234 · RMB 1234 · 1234元 · 1.2万 (x 10,000)
-- · 3亿 (x 100,000,000) · (300) and （300） (accounting negatives) · -300
create or replace temp macro crm_amount_core(s) as
    case
        when s like '%万' then try_cast(left(s, length(s) - 1) as decimal(38, 8)) * 10000
        when s like '%亿' then try_cast(left(s, length(s) - 1) as decimal(38, 8)) * 100000000
        else try_cast(s as decimal(38, 8))
    end;

create or replace temp macro crm_amount_signed(s) as
    case
        when (s like '(%)' or s like '（%）') and length(s) > 2
            then -crm_amount_core(substr(s, 2, length(s) - 2))
        else crm_amount_core(s)
    end;

-- a plain number is read as it is; only the other values go through the clean-up (coalesce
-- evaluates its next argument only for the rows still null)
create or replace temp macro crm_amount(v) as
    coalesce(
        try_cast(v as decimal(38, 8)),
        crm_amount_signed(regexp_replace(v, '[\s,，¥￥$€£]|RMB|CNY|USD|元', '', 'g'))
    );

-- money as the warehouse stores it, DECIMAL(18, 2) (null when unreadable or too large): a plain
-- number is cast straight from its text, which is much cheaper than narrowing a DECIMAL(38, 8)
create or replace temp macro crm_money(v) as
    coalesce(try_cast(v as decimal(18, 2)), try_cast(crm_amount(v) as decimal(18, 2)));

-- timestamps: ISO 8601 with an offset or Z (converted to the local zone tz, then naive) ·
-- ISO without one · an Excel serial day number (5 digits, fraction = time of day) · any of
-- the strptime formats fmts (the mapping's, then the unambiguous ones the importer adds).
create or replace temp macro crm_has_offset(v) as
    (v like '%Z' or v like '%+__' or v like '%+__:__' or v like '%+____' or v like '%-__:__' or v like '%-____')
    and regexp_matches(v, '\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|[+-]\d\d(:?\d\d)?)$');

-- YYYY-MM-DD and YYYY-MM-DD HH:MM:SS (the common case) leave no room for an offset: cast at once
create or replace temp macro crm_plain_iso(v) as
    substr(v, 5, 1) = '-'
    and (
        length(v) = 10 and substr(v, 8, 1) = '-'
        or length(v) = 19 and substr(v, 14, 1) = ':' and substr(v, 17, 1) = ':'
    );

create or replace temp macro crm_timestamp(v, fmts, tz) as
    coalesce(
        case when crm_plain_iso(v) then try_cast(v as timestamp) end,
        case when crm_has_offset(v) then try_cast(v as timestamptz) at time zone tz end,
        case when not crm_has_offset(v) then try_cast(v as timestamp) end,
        case
            when regexp_full_match(v, '[1-9]\d{4}(\.\d+)?')
                then timestamp '1899-12-30' + to_microseconds(round(v::double * 86400000000)::bigint)
        end,
        try_strptime(v, fmts)
    );

-- ids: a whole number written as a float by a spreadsheet or pandas (13085.0) is the id 13085
create or replace temp macro crm_id(v) as
    case
        when contains(v, '.') and regexp_full_match(v, '-?\d+\.0+') then regexp_extract(v, '^(-?\d+)\.', 1)
        else v
    end;

-- vendor quirks, as mapping-expression functions (crmreview/importing/expressions.py):
-- epoch milliseconds or seconds (1717377600000) -> an ISO time in UTC ('2024-06-03T01:20:00.000000Z'),
-- which crm_timestamp converts to the import's zone; any other value is left as it is (a date
-- written out is read as such, anything else is rejected as no date)
create or replace temp macro epoch_to_iso(v, digits, micros_per_unit) as
    case
        when regexp_full_match(trim(v), digits)
            then strftime(make_timestamp((trim(v)::decimal(20, 6) * micros_per_unit)::bigint), '%Y-%m-%dT%H:%M:%S.%fZ')
        else v
    end;

create or replace temp macro from_epoch_ms(v) as epoch_to_iso(v, '\d{11,14}(\.\d+)?', 1000);

create or replace temp macro from_epoch_s(v) as epoch_to_iso(v, '\d{8,11}(\.\d+)?', 1000000);

-- Chinese durations: 0天3小时 · 2小时30分 · 45分钟 · 1天 · 3日 12時 (traditional) -> days
create or replace temp macro duration_days(v) as
    case
        when regexp_full_match(trim(v), '(\d+(\.\d+)?\s*(天|日|小时|小時|时|時|分钟|分鐘|分|秒)\s*)+')
            then
                coalesce(try_cast(regexp_extract(v, '(\d+(?:\.\d+)?)\s*(?:天|日)', 1) as double), 0)
                + coalesce(try_cast(regexp_extract(v, '(\d+(?:\.\d+)?)\s*(?:小时|小時|时|時)', 1) as double), 0)
                / 24
                + coalesce(try_cast(regexp_extract(v, '(\d+(?:\.\d+)?)\s*(?:分钟|分鐘|分)', 1) as double), 0)
                / 1440
                + coalesce(try_cast(regexp_extract(v, '(\d+(?:\.\d+)?)\s*秒', 1) as double), 0) / 86400
    end;
