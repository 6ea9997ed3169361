-- Version 4: custom fields kept per record, and which export each record comes from.

-- the columns of an export that no canonical column takes (custom fields, tags: 合同类型,
-- 客户标签 …), header -> value as the export writes it; an empty cell is no entry
alter table customers add column attributes map(varchar, varchar);
alter table deals add column attributes map(varchar, varchar);

-- when the export that last wrote the record was taken (null: not known); an older export
-- never overwrites a record written from a newer one
alter table customers add column exported_at timestamp;
alter table deals add column exported_at timestamp;

-- the date of the first full snapshot of the deals (import --full-snapshot) that did not
-- contain this deal any more; null while every full snapshot has it
alter table deals add column missing_since timestamp;
