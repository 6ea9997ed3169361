#!/usr/bin/env python3
"""Set up the project environment and run a task. Needs only Python 3.11+.

    python3 dev.py demo     # install, then generate sample data -> warehouse -> quarterly report
    python3 dev.py test     # install, then run the test suite on two processes (extra args go to pytest)
    python3 dev.py lint     # install, then run the style tools alone (tests/test_style.py runs them too)
    python3 dev.py bench    # install, then run the performance benchmark (--sizes 1,10,100 --repeat 3 --out FILE)
    python3 dev.py setup    # install only

The environment is `.venv/` in the project folder; installs are skipped while
`requirements.lock` and `pyproject.toml` are unchanged.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".crm-review-installed"


def _run(cmd: list[str | Path], **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


#: changes when setup itself installs differently, so that existing environments are redone
SETUP_VERSION = b"2: installed packages compiled to bytecode"


def _fingerprint() -> str:
    digest = hashlib.sha256(SETUP_VERSION)
    for name in ("requirements.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


BROWSER_PACKAGES = ("chromium", "fonts-noto-cjk", "poppler-utils")


def system_packages() -> None:
    """Chromium (PDF, browser tests) and CJK fonts from the distribution, where we may install them.

    Only on Debian/Ubuntu as root; elsewhere the report renders as HTML and says how to get the PDF.
    """
    missing = not Path("/usr/bin/chromium").exists() or not Path("/usr/share/fonts/opentype/noto").exists()
    if not missing or os.name == "nt" or not Path("/usr/bin/apt-get").exists():
        return
    if os.geteuid() != 0:
        print(
            "Chromium or CJK fonts are missing: PDF output and browser tests need them "
            f"(as root: apt-get install {' '.join(BROWSER_PACKAGES)})",
            flush=True,
        )
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        _run(["apt-get", "update", "-qq"], env=env)
        _run(["apt-get", "install", "-y", "-qq", *BROWSER_PACKAGES], env=env)
    except subprocess.CalledProcessError as exc:
        print(f"could not install {', '.join(BROWSER_PACKAGES)} ({exc}); PDF output is unavailable", flush=True)


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"crm-review needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    _run([PYTHON, "-m", "pip", "install", "--quiet", "uv>=0.9"], env=env)
    _run(
        [
            BIN / "uv",
            "pip",
            "install",
            "--python",
            PYTHON,
            "--quiet",
            "-r",
            ROOT / "requirements.lock",
            "--editable",
            ROOT,
        ],
        env=env,
    )
    _compile_bytecode()
    STAMP.write_text(_fingerprint())


def _compile_bytecode() -> None:
    """Compile the installed packages to bytecode once, as pip does on install (uv does not).

    Without it every process compiles pandas and the rest again when Python may not write
    bytecode (``PYTHONDONTWRITEBYTECODE``, a read-only environment): 3 s of pandas' import
    becomes 1 s, and every kernel, report and command starts that much sooner.
    """
    purelib = subprocess.run(
        [str(PYTHON), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"+ compiling {purelib} to bytecode", flush=True)
    # a package may ship files for other Python versions that do not compile: not an error here
    subprocess.run(
        [str(PYTHON), "-m", "compileall", "-q", "-j", "0", purelib, str(ROOT / "lib")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


LINTERS = (
    ["ruff", "check", "."],
    ["ruff", "format", "--check", "."],
    ["sqlfluff", "lint", "queries/"],
    [
        "nbstripout",
        "--verify",
        "--keep-id",
        *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("*.ipynb")),
    ],
)


def lint() -> int:
    failed = []
    for tool, *args in LINTERS:
        print("+", tool, " ".join(args), flush=True)
        if subprocess.call([str(BIN / tool), *args], cwd=ROOT) != 0:
            failed.append(tool if tool != "ruff" else f"ruff {args[0]}")
    if failed:
        print(f"style check failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def pytest_args(rest: list[str]) -> list[str]:
    """The whole suite runs on two processes where there are two cores (pytest-xdist), one
    test file per process at a time, so that a file's fixtures are made once; arguments that
    choose the processes themselves (-n, --numprocesses, -p no:xdist) are left alone."""
    chosen = any(arg.startswith(("-n", "--numprocesses", "--dist")) or "xdist" in arg for arg in rest)
    if chosen or (os.cpu_count() or 1) < 2:
        return rest
    return ["-n", "2", "--dist", "loadfile", *rest]


def main(argv: list[str]) -> int:
    task, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if task in {"help", "-h", "--help"}:
        print(__doc__)
        return 0
    if task not in {"setup", "demo", "test", "lint", "bench"}:
        print(f"unknown task {task!r}; expected one of: setup, demo, test, lint, bench", file=sys.stderr)
        return 2
    setup()
    if task in {"demo", "test"}:
        system_packages()
    if task == "demo":
        return subprocess.call([str(BIN / "crm-review"), "demo", *rest], cwd=ROOT)
    if task == "test":
        return subprocess.call([str(PYTHON), "-m", "pytest", *pytest_args(rest)], cwd=ROOT)
    if task == "lint":
        return lint()
    if task == "bench":
        return subprocess.call([str(PYTHON), "-m", "benchmarks.bench", *rest], cwd=ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
