"""The served dashboard in a real browser: ``crm-review explore`` on a generated sample,
driven through Playwright on the distribution's Chromium (no browser download).

It runs wherever Chromium is installed, and always under CI (``CI`` set), where a missing
Chromium fails the test instead of skipping it. Every wait is bounded: one step may take
``STEP_S`` seconds and the whole test ``BUDGET_S`` (a busy shared machine starts a kernel
and draws the first views in a minute or two); a wait that runs out fails with what the page
showed, the browser console and the server's log. The server and its kernels are stopped in
teardown, and die with the test process if it is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmreview.browser import BrowserUnavailable, chromium, chromium_path

pytestmark = pytest.mark.slow

SHOTS = Path(os.environ.get("CRM_REVIEW_SCREENSHOTS", "/tmp"))
BUDGET_S = 1200  # the whole test: server start, page load, every interaction
STEP_S = 420  # any one wait (the first page load starts a kernel and draws two views)
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")


def _no_browser(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser test (python3 dev.py test installs Chromium as root)")
    pytest.skip(reason)


class Budget:
    """The time left for the test; every wait takes the smaller of a step and what is left."""

    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def step_ms(self, step_s: float = STEP_S) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"the browser test used its whole budget of {BUDGET_S} s")
        return min(step_s, left) * 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover (runs in the child before exec)
    """The server gets SIGKILL when the test process dies (Linux), even without teardown;
    its kernels stop by themselves when their parent is gone."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _children(pid: int) -> list[int]:
    """The processes started by ``pid`` and by them (the kernels run in sessions of their own)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stop(server: subprocess.Popen) -> None:
    """Stop the server and every process it started, whatever state they are in."""
    processes = [*_children(server.pid), server.pid]
    for pid in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=10)
    time.sleep(1)
    for pid in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=10)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crmreview.cli", *args], capture_output=True, text=True, check=True, timeout=STEP_S
    )


@pytest.fixture(scope="module")
def budget() -> Budget:
    return Budget(BUDGET_S)


@pytest.fixture(scope="module")
def served(imported_sample, tmp_path_factory, budget) -> Iterator[tuple[str, object, Path]]:
    if chromium_path() is None:
        _no_browser("no Chromium on this machine")
    sample = imported_sample(seed=7, size=0.5)
    port = _free_port()
    log = tmp_path_factory.mktemp("explore") / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "crmreview.cli", "explore", "--db", str(sample.db), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    try:
        deadline = time.monotonic() + budget.step_ms() / 1000
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"crm-review explore did not start listening:\n{log.read_text()}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/", sample, log
    finally:
        _stop(server)


class Driver:
    """The page with bounded waits that fail with what the page, the console and the server said."""

    def __init__(self, page, budget: Budget, log: Path) -> None:
        self.page, self.budget, self.log = page, budget, log
        self.console: list[str] = []
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", lambda r: None if r.url.startswith(LOCAL) else self.outside.append(r.url))

    def _on_console(self, message) -> None:
        self.console.append(f"[{self.budget.elapsed():6.1f} s] {message.type}: {message.text}")
        if message.type == "error":
            self.errors.append(message.text)

    def fail(self, what: str, exc: Exception) -> None:
        with contextlib.suppress(Exception):
            self.page.screenshot(path=str(SHOTS / "explore-failed.png"), full_page=True, timeout=10_000)
        try:
            text = self.page.inner_text("body", timeout=10_000)
        except Exception as read_error:
            text = f"(the page text could not be read: {read_error})"
        server = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
        pytest.fail(
            f"{what}: gave up after {self.budget.elapsed():.0f} s of the test ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})\n"
            f"--- page text ---\n{text[-3000:]}\n--- browser console ---\n"
            + "\n".join(self.console[-40:])
            + f"\n--- server log (end) ---\n{server}\n--- screenshot: {SHOTS / 'explore-failed.png'}",
            pytrace=False,
        )

    def step(self, what: str, action) -> object:
        """Run one interaction or wait with the page's timeouts bounded by the budget."""
        timeout = self.budget.step_ms()
        self.page.set_default_timeout(timeout)
        self.page.set_default_navigation_timeout(timeout)
        try:
            return action()
        except Exception as exc:  # Playwright's TimeoutError and any other failure of the page
            self.fail(what, exc)

    def wait(self, what: str, locator) -> None:
        self.step(what, lambda: locator.wait_for(timeout=self.budget.step_ms()))


def _funnel_numbers(driver: Driver, scope: str, lang: str = "en") -> dict[str, dict[str, int]]:
    table = driver.page.locator(f'.crm-funnel-table[data-scope="{scope}"][data-lang="{lang}"]')
    driver.wait(f"the funnel table of {scope} ({lang})", table)
    numbers = {}
    for row in table.locator("tbody tr").all():
        stage = row.get_attribute("data-stage")
        cells = {c.get_attribute("data-key"): c.get_attribute("data-value") for c in row.locator("td[data-key]").all()}
        numbers[stage] = {k: int(cells[k]) for k in ("reached", "lost_at", "open_at")}
    return numbers


def test_the_served_dashboard_filters_drills_down_and_switches_language(served, budget):
    url, sample, log = served
    team_result = json.loads(
        _cli(
            "metrics", "funnel", "--period", "2026Q3", "--by", "team", "--format", "json", "--db", str(sample.db)
        ).stdout
    )
    group = max(team_result["groups"], key=lambda g: g["cohort_deals"])
    team = group["group"]
    expected = {s["stage"]: {k: s[k] for k in ("reached", "lost_at", "open_at")} for s in group["stages"]}
    everything = {s["stage"]: {k: s[k] for k in ("reached", "lost_at", "open_at")} for s in team_result["stages"]}
    try:
        with chromium() as context:
            page = context.new_page()
            page.set_viewport_size({"width": 1280, "height": 1000})
            driver = Driver(page, budget, log)
            driver.step("loading the page", lambda: page.goto(url, wait_until="commit"))
            assert _funnel_numbers(driver, "all") == everything
            page.screenshot(path=str(SHOTS / "explore-loaded.png"), full_page=True)

            # the team filter: the funnel on the page is the CLI's funnel for that team
            driver.step("choosing the team", lambda: page.locator(".crm-filter-team select").select_option(label=team))
            assert _funnel_numbers(driver, f"team={team}") == expected
            page.screenshot(path=str(SHOTS / "explore-team.png"), full_page=True)

            # drill down: the team's reps, the busiest rep's deals, the first deal's history
            driver.step("opening the drill-down", lambda: page.locator(".lm-TabBar-tab", has_text="Drill down").click())
            driver.wait("the team's reps", page.get_by_text(f"Reps of {team}"))
            rep_buttons = page.locator(".widget-gridbox .jupyter-button")
            driver.step("opening the first rep", lambda: rep_buttons.first.click())
            driver.wait("the rep's deals", page.get_by_text("stale and lost first"))
            deal_buttons = page.locator(".widget-gridbox .jupyter-button")
            deal_id = str(driver.step("reading the first deal", lambda: deal_buttons.first.inner_text())).strip()
            assert deal_id.startswith("D")
            driver.step("opening the deal", lambda: deal_buttons.first.click())
            driver.wait("the deal's stage history", page.get_by_text(f"Stage history of deal {deal_id}"))
            history = page.locator(".widget-gridbox").first
            driver.wait("the history's first stage", history.get_by_text("Lead").first)
            page.screenshot(path=str(SHOTS / "explore-deal.png"), full_page=True)

            # Chinese: the labels change, the numbers do not
            driver.step(
                "switching to Chinese", lambda: page.locator(".crm-filter-lang select").select_option(label="中文")
            )
            driver.step("opening the funnel tab", lambda: page.locator(".lm-TabBar-tab", has_text="漏斗与流失").click())
            assert _funnel_numbers(driver, f"team={team}", lang="zh") == expected
            driver.wait("a Chinese key number", page.get_by_text("新建商机").first)
            page.screenshot(path=str(SHOTS / "explore-zh.png"), full_page=True)
    except BrowserUnavailable as exc:
        _no_browser(str(exc))
    assert driver.errors == [], "\n".join(driver.console)
    assert driver.outside == []
