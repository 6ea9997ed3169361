"""Report sections, one module per section (header, summary, contents, funnel, funnel_detail,
tiers, followup, repurchase, retention, churn, appendix), each with ``build(con, review) ->
list`` returning HTML blocks and figures drawn from aggregates. A section opens with its
anchored heading and the question it answers (``html.section_heading``); the numbers it
shares with the summary come from ``crmreview.report.results``.

``QuarterlyReview.section(name)`` (``crmreview.report.review``) opens the warehouse read-only
and calls ``crmreview.report.sections.<name>.build``.
"""
