"""The benchmark suite works (issue 9): run at a tiny size, it measures every line and writes its JSON.

No timing is asserted here: a benchmark is not a test. What is checked is that every measurement
was made, that the baselines computed the overview's numbers, and that the writers' entries were
stored exactly once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import pages, report

ROOT = Path(__file__).parent.parent
SIZE = 20_000


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database for the module's runs (the suite reuses it by size, seed and code version)."""
    return tmp_path_factory.mktemp("bench")


def run_bench(data_dir: Path, out: Path, *extra: str) -> tuple[dict, str]:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--activities", str(SIZE), "--runs", "1", "--writes", "40",
         "--import-rows", "3000", "--data-dir", str(data_dir), "--out", str(out), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), done.stdout


def test_a_tiny_run_measures_every_line_and_writes_json(data_dir: Path, tmp_path: Path) -> None:
    results, printed = run_bench(data_dir, tmp_path / "out.json", "--skip-browser")
    size = results["sizes"][str(SIZE)]
    assert results["machine"]["cores"] >= 1 and results["machine"]["mem_total_kb"] > 0
    assert len(size["load_before"]) == 3  # the load average, for reading noisy numbers
    measured = {(r["page"], r["variant"]) for r in size["pages"]}
    assert measured == {(p.name, v.name) for p in pages.PAGES for v in p.variants}
    for row in size["pages"]:
        assert row["cold_s"] > 0 and row["warm_s"] > 0
    assert size["baselines"]["disagreements"] == {}  # pandas and plain SQL found the overview's numbers
    assert size["writes"]["one"]["exactly_once"] and size["writes"]["twenty"]["exactly_once"]
    assert size["writes"]["twenty"]["entries"] == 40 and size["writes"]["twenty"]["threads"] == 20
    assert size["writes"]["delay"]["median_s"] > 0
    assert size["rss"]["pages_peak_mb"] > 0 and size["build"]["seconds"] > 0
    assert "browser" not in size
    # the import: 3,000 orders inserted, then the same file again updates each of them once
    assert size["import"]["rows"] == 3000 and size["import"]["bad_rows"] == 0
    assert size["import"]["inserted"] == 3000 and size["import"]["updated_again"] == 3000
    assert size["import"]["inserted_again"] == 0
    names = [t["name"] for t in results["targets"]]
    assert names == [line.name for line in report.lines(results)]
    for target in results["targets"]:  # every measured line has a value; targets have a verdict
        value = target["values"][str(SIZE)]
        if not target["name"].strip().startswith("browser"):
            assert value is not None, target["name"]
    assert "overview [default] cold" in printed and "entries/s, 20 writers" in printed


def test_a_rerun_reuses_the_demo_database(data_dir: Path, tmp_path: Path) -> None:
    first, _ = run_bench(data_dir, tmp_path / "a.json", "--skip-browser")
    again, _ = run_bench(data_dir, tmp_path / "b.json", "--skip-browser")
    assert again["sizes"][str(SIZE)]["build"]["reused"]
    assert again["sizes"][str(SIZE)]["build"]["seconds"] == first["sizes"][str(SIZE)]["build"]["seconds"]


@pytest.mark.browser
def test_the_browser_measurement_runs(data_dir: Path, tmp_path: Path) -> None:
    results, printed = run_bench(data_dir, tmp_path / "out.json")
    browser = results["sizes"][str(SIZE)]["browser"]
    assert browser["cold_s"] > 0 and browser["warm_s"] > 0 and browser["fresh_server_s"] > 0
    assert "browser: overview tiles after a write" in printed
