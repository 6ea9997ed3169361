"""Restricted read connections: a report's scope (team, region, rep, pipeline; the explore
dashboard also scopes by source channel) and masked names.

``restrict(con, scope, mask_pii=..., lang=...)`` puts temporary views named like the canonical
tables in front of the attached warehouse (queries/views/): every query, macro and report
section on that connection then reads only the scope's rows, with customer and rep names
replaced by stable pseudonyms, without knowing it. Ids stay, unless an id is the name itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import duckdb

from . import queries
from .i18n import check_lang, t

__all__ = ["Scope", "ScopeError", "restrict"]


class ScopeError(ValueError):
    """A scope names a team, region, rep, pipeline or channel the warehouse does not have."""


@dataclass(frozen=True)
class Scope:
    """What a report covers: at most one of team, region, rep and channel, optionally one pipeline.

    ``channel`` keeps the deals of that source channel (the deal's, else its customer's) and
    the customers acquired through it, with their orders and activities (every rep stays).
    """

    team: str | None = None
    region: str | None = None
    rep: str | None = None
    pipeline: str | None = None
    channel: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and not isinstance(value, str):
                raise ScopeError(f"scope {f.name} must be text, not {value!r}")
            if value == "" and f.name != "pipeline":
                object.__setattr__(self, f.name, None)
        chosen = [name for name in ("team", "region", "rep", "channel") if getattr(self, name) is not None]
        if len(chosen) > 1 and "channel" in chosen:
            raise ScopeError(f"choose one of team, region, rep and channel, not {' and '.join(chosen)}")
        if len(chosen) > 1:
            raise ScopeError(f"choose one of --team, --region and --rep, not {' and '.join('--' + c for c in chosen)}")

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def items(self) -> list[tuple[str, str]]:
        """(field, value) of what is set, in the order team, region, rep, pipeline, channel."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None]

    def label(self, lang: str) -> str:
        """``team East`` / ``团队 East`` for titles; "" when nothing is restricted."""
        return ", ".join(t(f"scope.{name}", lang, value=value) for name, value in self.items())

    def slug(self) -> str:
        """The scope in a file name: ``team-east``, ``rep-r07_pipeline-enterprise``; "" when empty."""
        parts = []
        for name, value in self.items():
            text = re.sub(r"[^\w]+", "-", value.strip().lower(), flags=re.UNICODE).strip("-") or "none"
            parts.append(f"{name}-{text}")
        return "_".join(parts)


def _check_known(con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    values = queries.run(con, "views/scope_values", {})
    for name, value in scope.items():
        known = sorted(values.loc[values["field"] == name, "value"].astype(str))
        if value not in known:
            shown = ", ".join(repr(k) for k in known[:20]) + (f" … ({len(known)} in all)" if len(known) > 20 else "")
            raise ScopeError(
                f"the warehouse has no {name} {value!r}; "
                + (f"its {name}s are: {shown}" if known else f"it records no {name}s")
            )


def restrict(
    con: duckdb.DuckDBPyConnection, scope: Scope | None = None, *, mask_pii: bool = False, lang: str = "en"
) -> None:
    """Show ``con`` (a read connection on the attached ``warehouse``) only the scope's rows,
    names masked when ``mask_pii``. Does nothing when there is nothing to restrict."""
    scope = scope or Scope()
    if scope.empty and not mask_pii:
        return
    check_lang(lang)
    _check_known(con, scope)
    con.execute(
        queries.sql_text("views/settings"),
        {
            "team": scope.team,
            "region": scope.region,
            "rep": scope.rep,
            "pipeline": scope.pipeline,
            "channel": scope.channel,
            "mask_pii": mask_pii,
            "customer_word": t("pseudonym.customer", lang),
            "rep_word": t("pseudonym.rep", lang),
        },
    )
    for name in ("views/scope", "views/pseudonyms", "views/views"):
        con.execute(queries.sql_text(name))
