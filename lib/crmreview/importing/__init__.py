"""Import of CRM exports into the warehouse: all-or-nothing, nothing lost.

Two ways in. A **canonical** file is a CSV named ``<table>.csv`` whose header uses the
canonical column names of that table (:mod:`crmreview.schema`). Any other export is imported
with a **mapping**: a mapping file the user wrote, or a built-in adapter
(``--source salesforce|hubspot|zoho|jiandaoyun|neocrm|fxiaoke|yonyou``), or a mapping
drafted from the file's headers (:mod:`~crmreview.importing.draft`). Every file of one call is imported in one
transaction; every refused row goes to ``rejects`` with its line, column, value and reason.

The modules, in the order an import runs through them:

* :mod:`~crmreview.importing.mapping` and :mod:`~crmreview.importing.expressions`: mapping
  files and their expression language;
* :mod:`~crmreview.importing.jobs`: which file feeds which table, in load order;
* :mod:`~crmreview.importing.readers` (with :mod:`~crmreview.importing.textfiles` for
  encodings): each file read once, CSV (plain or gzip), Parquet or XLSX, into work tables
  of text; :mod:`~crmreview.importing.nondata`: totals rows, report footers and empty rows
  skipped as no record, with their reason;
* :mod:`~crmreview.importing.canonical` and :mod:`~crmreview.importing.mapped`: the
  typed-insert :mod:`~crmreview.importing.plan` of one (file, table) load;
* :mod:`~crmreview.importing.load`: every value typed once into a work table, then checks,
  duplicates, upsert, rejects, the import log and
  the transaction; :mod:`~crmreview.importing.snapshots`: stage history from successive
  exports;
* :mod:`~crmreview.importing.errors` and :mod:`~crmreview.importing.sql`: the shared error
  vocabulary and how SQL is written (identifiers fixed, values bound).

Public names: :func:`import_files`, :class:`FileResult`, :class:`ImportFileError`,
:class:`MappingError`.
"""

from .errors import ImportFileError, MappingError
from .load import FileResult, import_files

__all__ = ["FileResult", "ImportFileError", "MappingError", "import_files"]
