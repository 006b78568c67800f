"""The browser measurement: from opening the overview URL to every KPI tile showing its value.

A real `streamlit run serve.py` (app.py behind the upload gate) on the bench database and headless
Debian Chromium driven by Playwright (tests/e2e does the same). The demo executive and the demo rep
sign in once; their session cookies outlive the server. Then, on a freshly started server:

- fresh server: the executive opens the overview as the server's first session (nothing imported
  or cached yet: the price of a restart, shown for information);
- cold: the rep saves a visit on the quick-entry page (a real write: the data version moves, so
  every cached number is stale), then the executive opens the overview;
- warm: the executive opens it again, nothing changed.

Each timed from page.goto to the last tile's value, median of the runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TILES = 13  # the overview's six marketing and five sales tiles, and two collaboration counts
USERNAME = re.compile(r"^(用户名|Username)$")
PASSWORD_BOX = re.compile(r"^(密码|Password)$")
SUBMIT = re.compile(r"^(登录|Sign in)$")
TIMEOUT_MS = 120_000
COOKIE = "mktsales_session"
REP = "rep.east"  # the demo rep whose visit makes the data change


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int, *, wait: float = 60, **env: str) -> subprocess.Popen[bytes]:
    """Start `streamlit run serve.py` on ``db`` (``env`` added to the environment) and wait up to
    ``wait`` seconds until it answers its health check. The browser tests use it too."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "serve.py",
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        env={**os.environ, "MKTSALES_DB": str(db), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the app did not start within {wait:.0f} s")


@contextlib.contextmanager
def serving(db: Path, today: str) -> Iterator[str]:
    """`streamlit run serve.py` on ``db``, "today" fixed; yields its URL, stops it by PID after."""
    port = free_port()
    process = start_server(db, port, wait=120, MKTSALES_TODAY=today, MKTSALES_REFRESH_SECONDS="0")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()  # it had a minute to finish; the file lock goes with the process
            process.wait(timeout=30)


def _tiles_shown(page: Any) -> None:
    """Wait until all TILES metric tiles are drawn, each with a non-empty value."""
    page.wait_for_function(
        "n => { const v = [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')];"
        " return v.length >= n && v.every(e => e.innerText.trim().length > 0); }",
        arg=TILES,
        timeout=TIMEOUT_MS,
    )


def _open_overview(page: Any, url: str) -> float:
    started = time.perf_counter()
    page.goto(f"{url}/overview")
    _tiles_shown(page)
    return time.perf_counter() - started


def _sign_in(page: Any, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name=USERNAME).fill(username, timeout=TIMEOUT_MS)
    page.get_by_role("textbox", name=PASSWORD_BOX).fill(password)
    page.get_by_role("button", name=SUBMIT).click()
    page.get_by_role("textbox", name=USERNAME).wait_for(state="detached", timeout=TIMEOUT_MS)
    page.wait_for_function(  # the app writes the session cookie on the run after the sign-in
        f"document.cookie.split('; ').some(c => c.startsWith('{COOKIE}=') && c.length > {len(COOKIE) + 1})",
        timeout=TIMEOUT_MS,
    )


def _settled(page: Any) -> None:
    """Wait until the app has finished the run the last input started."""
    page.wait_for_timeout(200)
    page.get_by_test_id("stStatusWidgetRunningIcon").wait_for(state="detached", timeout=TIMEOUT_MS)


def _pick_first(page: Any, label: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option").first.click()
    _settled(page)


def _save_visit(page: Any, url: str) -> None:
    """The rep logs a visit to their first customer (zh labels, the app's default language)."""
    page.goto(url)  # a rep lands on quick entry
    page.get_by_role("heading", name="快速录入").wait_for(timeout=TIMEOUT_MS)
    _settled(page)
    _pick_first(page, "客户")
    _pick_first(page, "拜访目的")
    _pick_first(page, "拜访结果")
    page.get_by_role("button", name="保存").click()
    page.get_by_test_id("stAlert").filter(has_text="已保存拜访").wait_for(timeout=TIMEOUT_MS)


def measure(db: Path, today: str, username: str, password: str, runs: int) -> dict[str, Any]:
    """Seconds to the overview's tiles: on a fresh server, after a write (cold), again (warm)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk, or --skip-browser"
        )
    fresh, cold, warm = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            boss = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
            rep = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            with serving(db, today) as url:  # sign in once: the session cookies outlive the server
                _sign_in(boss, url, username, password)
                _tiles_shown(boss)
                _sign_in(rep, url, REP, password)
                for page in (boss, rep):
                    page.goto("about:blank")  # a server with an open session takes long to stop
            with serving(db, today) as url:
                fresh.append(_open_overview(boss, url))
                for _ in range(runs):
                    _save_visit(rep, url)
                    cold.append(_open_overview(boss, url))
                    warm.append(_open_overview(boss, url))
                for page in (boss, rep):
                    page.goto("about:blank")
        finally:
            browser.close()
    return {
        "cold_s": statistics.median(cold),
        "warm_s": statistics.median(warm),
        "fresh_server_s": fresh[0],
        "cold_runs_s": cold,
        "warm_runs_s": warm,
    }
