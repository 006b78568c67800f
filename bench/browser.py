"""The browser measurement: from opening the overview URL to every KPI tile showing its value.

A real `streamlit run app.py` on the bench database and headless Debian Chromium driven by
Playwright (tests/e2e does the same). The demo executive signs in once; then the overview URL is
opened (1) on a freshly started server (cold: its first session, nothing cached, the file just
opened) and (2) again on the same server (warm). Timed from page.goto to the last tile's value.
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
TILES = 11  # the overview's six marketing and five sales tiles
USERNAME = re.compile(r"^(用户名|Username)$")
PASSWORD_BOX = re.compile(r"^(密码|Password)$")
SUBMIT = re.compile(r"^(登录|Sign in)$")
TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(db: Path, today: str) -> Iterator[str]:
    """`streamlit run app.py` on ``db``, "today" fixed; yields its URL, stops it by PID after."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        env={**os.environ, "MKTSALES_DB": str(db), "MKTSALES_TODAY": today, "MKTSALES_REFRESH_SECONDS": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the app did not start within 120 s") from None
                time.sleep(0.2)
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


def measure(db: Path, today: str, username: str, password: str, runs: int) -> dict[str, Any]:
    """Cold (first open on a fresh server, signed in by cookie) and warm (reopened) seconds."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk, or --skip-browser"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            with serving(db, today) as url:  # sign in once: the session cookie outlives the server
                page.goto(url)
                page.get_by_role("textbox", name=USERNAME).fill(username, timeout=TIMEOUT_MS)
                page.get_by_role("textbox", name=PASSWORD_BOX).fill(password)
                page.get_by_role("button", name=SUBMIT).click()
                _tiles_shown(page)
                page.goto("about:blank")  # a server with an open session takes long to stop
            cold, warm = [], []
            for _ in range(runs):
                with serving(db, today) as url:
                    cold.append(_open_overview(page, url))
                    warm.append(_open_overview(page, url))
                    page.goto("about:blank")
        finally:
            browser.close()
    return {
        "cold_s": statistics.median(cold),
        "warm_s": statistics.median(warm),
        "cold_runs_s": cold,
        "warm_runs_s": warm,
    }
