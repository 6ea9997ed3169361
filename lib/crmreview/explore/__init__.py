"""Exploration for sales managers: filters and drill-down over the warehouse, as widgets.

``notebooks/explore.ipynb`` composes :func:`dashboard` (also served as a web app by
``crm-review explore``, through Voilà). The parts:

- :mod:`.session`: the read-only snapshot (``Explorer``, refreshable) and the filters (``Selection``);
- :mod:`.views`: one function per view, drawn with the report's metrics, charts and notices;
- :mod:`.drill`: team → reps → deals → stage history, tier → customers → orders, deals, activities;
- :mod:`.dashboard`: the ipywidgets composition;
- :mod:`.store`: the results kept on disk per snapshot, read by the next kernel exploring it;
- :mod:`.warm`: computing them ahead of the visitors (beside ``crm-review explore``);
- :mod:`.importing`: what ``notebooks/import.ipynb`` shows after an import.

Public names: ``Explorer``, ``Selection``, ``Dashboard``, ``dashboard``.
"""

from .dashboard import Dashboard, dashboard
from .session import Explorer, Selection

__all__ = ["Explorer", "Selection", "Dashboard", "dashboard"]
