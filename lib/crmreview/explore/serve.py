"""``crm-review explore``: the explore notebook served as a web app by Voilà, code hidden.

Voilà runs ``notebooks/explore.ipynb`` in a kernel per visitor and serves the widget and
plotly JavaScript from the installed JupyterLab extensions, so the page needs no network.
It listens on localhost unless told another address. The warehouse and masking reach the
notebook through the environment (``CRM_REVIEW_DB``, ``CRM_REVIEW_MASK_PII``).

Beside the server, at a lower priority, a warm-up process (:mod:`crmreview.explore.warm`)
computes the dashboard's results into the snapshot's result store, and does again for each
newer import, so visitors read the key numbers instead of computing them; it stops with the
server. ``warm=False`` serves without it.

Public names: ``voila_command``, ``warm_command``, ``serve``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .. import config
from ..warehouse import WarehouseError

__all__ = ["voila_command", "warm_command", "serve", "NOTEBOOK"]

NOTEBOOK = "explore.ipynb"
#: Jupyter data folder holding the ``crm-review`` Voilà template (lab, without CDN links)
JUPYTER_DATA = config.PACKAGE_DIR / "explore" / "jupyter"
TEMPLATE = "crm-review"
#: seconds the notebook may take to draw the page before Voilà shows a timeout instead of
#: loading forever (the first views of a large warehouse on a busy machine take minutes)
EXECUTE_TIMEOUT = 1200


def voila_command(port: int, host: str = "127.0.0.1") -> list[str]:
    """The Voilà command line serving the explore notebook on ``host:port``."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(config.NOTEBOOKS_DIR / NOTEBOOK),
        f"--port={port}",
        f"--Voila.ip={host}",
        "--no-browser",
        "--strip_sources=True",
        "--show_tracebacks=False",
        f"--template={TEMPLATE}",
        f"--VoilaExecutor.timeout={EXECUTE_TIMEOUT}",
    ]


#: the warm-up's niceness: the visitors' kernels come first
WARM_NICE = 10


def warm_command(db: Path, *, mask_pii: bool = False) -> list[str]:
    """The command line of the warm-up process following the warehouse at ``db``."""
    command = [sys.executable, "-m", "crmreview.explore.warm", f"--db={db}", "--follow", "--quiet"]
    return command + [f"--nice={WARM_NICE}"] + (["--mask-pii"] if mask_pii else [])


def serve(
    db: str | os.PathLike | None,
    *,
    port: int = 8866,
    host: str = "127.0.0.1",
    mask_pii: bool = False,
    warm: bool = True,
) -> int:
    """Serve the dashboard until interrupted; returns Voilà's exit status. With ``warm``, the
    warm-up process runs beside it (see the module)."""
    path = Path(db) if db else config.notebook_db_path("")
    if not path.exists():
        raise WarehouseError(
            f"no warehouse at {path}: import data first (crm-review import FILE... --db {path}) or run crm-review demo"
        )
    env = {**os.environ, "CRM_REVIEW_DB": str(path.resolve())}
    env["CRM_REVIEW_MASK_PII"] = "1" if mask_pii else "0"
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(JUPYTER_DATA), os.environ.get("JUPYTER_PATH", "")]))
    env.pop("PLOTLY_RENDERER", None)  # the notebook renderer stalls widget outputs
    print(f"serving the explore dashboard on http://{host}:{port}/ (warehouse {path}); Ctrl+C stops it", flush=True)
    command = voila_command(port, host)
    if warm:  # a child of this process, which becomes the server: it stops when the server does
        subprocess.Popen(warm_command(path.resolve(), mask_pii=mask_pii), env=env, stdin=subprocess.DEVNULL)
    if os.name == "posix":  # become the server: stopping this process stops it
        os.chdir(config.PROJECT_ROOT)
        os.execve(command[0], command, env)
    try:
        return subprocess.call(command, env=env, cwd=config.PROJECT_ROOT)
    except KeyboardInterrupt:
        return 0
