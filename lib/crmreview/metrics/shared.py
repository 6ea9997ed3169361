"""Per-snapshot state the metrics share: computed once per connection and date, then reused.

Many queries of a review read the same per-customer state for the same date: the customer
universe, values and ABC tiers (``queries/macros/customers.sql``), each customer's
lifecycle state (``purchases.sql``), the purchase days, the activities with their customer
and each customer's follow-up state (``followup.sql``). Each is a macro or view that reads a ``shared_*`` temporary
table when the connection holds its rows, and computes from the tables otherwise. The
functions here fill those tables (``queries/metrics/shared/``), once per connection and
arguments (``shared_state``, a variable of the connection, lists what is filled; it is read
when a query is planned, so a shared macro's other branch is left out of the plan); the
metric functions call them before their queries, so every later query,
metric and report section on the same connection reuses the rows. A state filled on a
connection is remembered for it in the process, so asking for it again runs nothing.

They fill only on a connection to a published snapshot (``warehouse.connect_read``: the
warehouse attached read-only), whose data cannot change under the rows; on any other
connection (an import's, a test's in-memory database) they do nothing and the macros compute
as before. The temporary tables are private to the connection, so a scoped connection's rows
are its scope's, and they go with the connection.

``rows`` keeps a small query result the same way (in the process, for the connection's life):
the stages each pipeline's funnel shows, for example, which every funnel reads.

Public names: ``enabled``, ``customer_state``, ``lifecycle_state``, ``customer_followup``,
``purchase_days``, ``customer_activities``, ``rows``.
"""

from __future__ import annotations

import weakref
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from .. import queries
from ..config import Settings

__all__ = [
    "enabled",
    "customer_state",
    "lifecycle_state",
    "customer_followup",
    "purchase_days",
    "customer_activities",
    "rows",
]

#: every argument a shared state's key may use (share.sql takes them all; null where unused)
_KEY_ARGUMENTS = (
    "as_of",
    "window_start",
    "value_window_months",
    "tier_a_share",
    "tier_b_share",
    "new_days",
    "active_days",
    "churn_days",
    "cadence_a",
    "cadence_b",
    "cadence_c",
    "pool_days",
)


#: connection -> the shared states filled on it, (name, key arguments): a state is filled and
#: listed once, and asking for it again costs nothing (not even planning its no-op fill)
_FILLED: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, set[tuple]] = weakref.WeakKeyDictionary()


def enabled(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` reads a database nothing can change (a published snapshot attached
    read-only), so that state computed on it stays true for the connection's life."""
    if con in _FILLED:
        return True
    rows = con.execute("select readonly from duckdb_databases() where database_name = current_database()").fetchall()
    if rows and rows[0][0]:
        _FILLED[con] = set()
        return True
    return False


def _share(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> None:
    """Fill the shared state ``name`` (``queries/metrics/shared/<name>.sql``, a no-op when it is
    filled) and list it in the connection's ``shared_state``: later queries read its rows.
    Once filled on ``con`` (in this process), asking again returns at once."""
    key_params = dict.fromkeys(_KEY_ARGUMENTS) | {k: v for k, v in params.items() if k in _KEY_ARGUMENTS}
    filled = _FILLED.setdefault(con, set())
    key = (name, tuple(sorted((k, _hashable(v)) for k, v in params.items())))
    if key in filled:
        return
    con.execute(queries.sql_text(f"metrics/shared/{name}"), params)
    con.execute(queries.sql_text("metrics/shared/share"), {"state_name": name, **key_params})
    filled.add(key)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def customer_state(con: duckdb.DuckDBPyConnection, as_of: date, settings: Settings) -> None:
    """The customer universe, values and ABC tiers at ``as_of`` (the tier settings of
    ``settings``), shared from now on by every query on ``con``."""
    if not enabled(con):
        return
    window = settings.value_window_months
    _share(con, "customer_universe", {"as_of": as_of})
    _share(con, "customer_values", {"as_of": as_of, "value_window_months": window})
    tiers = {"tier_a_share": settings.tier_a_share, "tier_b_share": settings.tier_b_share}
    _share(con, "customer_tiers", {"as_of": as_of, **tiers, "value_window_months": window})


def lifecycle_state(con: duckdb.DuckDBPyConnection, as_of: date, window_start: date, settings: Settings) -> None:
    """Each customer's lifecycle state at ``as_of`` (reactivations from ``window_start``),
    with the purchase days it is computed from, shared from now on on ``con``."""
    if not enabled(con):
        return
    purchase_days(con)
    thresholds = {"new_days": settings.new_days, "active_days": settings.active_days, "churn_days": settings.churn_days}
    _share(con, "lifecycle_states", {"as_of": as_of, "window_start": window_start, **thresholds})


def customer_followup(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> None:
    """Each customer's follow-up state (``customer_followup``) for ``params`` (the follow-up
    queries' ``as_of``, tier settings, cadences and ``pool_days``), with the tiers and the
    activities it is computed from, shared from now on on ``con``."""
    if not enabled(con):
        return
    customer_activities(con)
    _share(con, "customer_followup", params)


def purchase_days(con: duckdb.DuckDBPyConnection) -> None:
    """Every customer's purchase days (``purchase_days``), shared from now on on ``con``."""
    if enabled(con):
        _share(con, "purchase_days", {})


def customer_activities(con: duckdb.DuckDBPyConnection) -> None:
    """The activities with the customer they concern (``customer_activities``), shared from
    now on on ``con``."""
    if enabled(con):
        _share(con, "customer_activities", {})


#: connection -> (query name, parameters) -> the rows ``rows`` keeps for it
_KEPT: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[tuple, pd.DataFrame]] = weakref.WeakKeyDictionary()


def rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pd.DataFrame:
    """The result of query ``name`` with ``params`` on ``con``: on a published snapshot
    computed once per connection and parameters and kept while the connection lives (a
    copy is returned); elsewhere run every time. For small results that many queries of a
    review need, such as the stages each pipeline's funnel shows."""
    if not enabled(con):
        return queries.run(con, name, params)
    key = (name, tuple(sorted((k, _hashable(v)) for k, v in params.items())))
    kept = _KEPT.setdefault(con, {})
    if key not in kept:
        kept[key] = queries.run(con, name, params)
    return kept[key].copy()
