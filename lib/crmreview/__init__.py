"""crm-review: quarterly sales reviews from CRM exports, on DuckDB."""

__version__ = "0.1.0"
