"""Report sections beyond the funnel: one module per domain, each with
``build(con, review) -> list`` returning HTML blocks and figures drawn from aggregates.

``QuarterlyReview.section(name)`` (``crmreview.report_sections``) opens the warehouse
read-only and calls ``crmreview.sections.<name>.build``.
"""
