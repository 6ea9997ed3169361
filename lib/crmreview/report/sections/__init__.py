"""Report sections, one module per section (header, kpis, funnel, funnel_detail, tiers, followup,
repurchase, retention, churn), each with ``build(con, review) -> list`` returning HTML blocks
and figures drawn from aggregates.

``QuarterlyReview.section(name)`` (``crmreview.report.review``) opens the warehouse read-only
and calls ``crmreview.report.sections.<name>.build``.
"""
