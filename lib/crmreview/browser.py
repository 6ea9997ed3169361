"""The distribution's Chromium, driven through Playwright (no browser download).

Used for PDF output and by the browser tests. Chromium on a closed network needs the
background-networking flags below and a fresh profile, or it floods the network and stalls.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

INSTALL_HINT = "install Chromium and CJK fonts (Debian/Ubuntu, as root: apt-get install chromium fonts-noto-cjk)"


class BrowserUnavailable(RuntimeError):
    """No Chromium on this machine."""


def chromium_path() -> Path | None:
    """The Chromium executable: $CRM_REVIEW_CHROMIUM, else the first one on PATH or in /usr/bin."""
    configured = os.environ.get("CRM_REVIEW_CHROMIUM")
    if configured:
        return Path(configured) if Path(configured).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Playwright BrowserContext on the system Chromium, with a private empty profile."""
    executable = chromium_path()
    if executable is None:
        raise BrowserUnavailable(f"no Chromium found; {INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="crm-review-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=str(executable),
            headless=True,
            args=[flag for flag in CHROMIUM_FLAGS if flag != "--headless"],
        )
        try:
            yield context
        finally:
            context.close()
