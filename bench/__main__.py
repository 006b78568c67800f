"""`python -m bench`: build (or reuse) a demo database per size, measure, print one table, write JSON.

    python -m bench --activities 10000000          # make bench
    python -m bench --sizes 1000000,10000000 --runs 5
    python -m bench --activities 20000 --skip-browser --out /tmp/b.json --data-dir /tmp/bench

See bench/README.md for what each line means and how to read it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import logging
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import build
from bench.report import evaluate, print_table

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "results" / "latest.json"
AS_OF = dt.date(2026, 3, 31)  # the demo's last day and the app's "today": "this month" is all of March


def _status_kb(field: str) -> int | None:
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(found.group(1)) if found else None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text()
    cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    import duckdb
    import pandas
    import streamlit

    return {
        "cores": os.cpu_count(),
        "cpu": cpu.group(1) if cpu else platform.processor(),
        "mem_total_kb": int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "streamlit": streamlit.__version__,
        "commit": commit,
        "code_version": build.code_version(),
    }


def _disagreements(ours: dict[str, Any], found: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """ "<baseline> <period> <kpi>" -> [ours, theirs] for every KPI a baseline computed differently."""
    from bench import baselines

    out = {}
    for name, periods in found.items():
        for period, values in periods.items():
            for kpi, (a, b) in baselines.disagreements(ours[period], values).items():
                out[f"{name} {period} {kpi}"] = [str(a), str(b)]
    return out


def measure_size(args: argparse.Namespace, activities: int) -> dict[str, Any]:
    """Everything the issue lists, for one size."""
    import streamlit as st

    from bench import baselines, pages, writes
    from mktsales import accounts, config, entries, kpis
    from mktsales.ui import data

    result: dict[str, Any] = {"activities": activities, "load_before": os.getloadavg()}
    say = print if not args.quiet else (lambda *a, **k: None)
    say(f"[{activities:,}] demo database ...", flush=True)
    built = build.pristine(activities, args.seed, args.as_of, args.data_dir, rebuild=args.rebuild)
    result["build"] = {
        "seconds": built.seconds,
        "reused": built.reused,
        "built_at": built.built_at,
        "peak_rss_mb": built.peak_rss_mb,
        "file_mb": built.path.stat().st_size / 2**20,
    }
    work = build.working_copy(built, args.data_dir)
    os.environ["MKTSALES_DB"] = str(work)
    os.environ["MKTSALES_TODAY"] = args.as_of.isoformat()
    path = str(work)
    st.cache_data.clear()
    st.cache_resource.clear()
    db = data.database(path)
    try:
        today, now = config.today(), config.now() - dt.timedelta(hours=12)  # noon of the last day
        users = {name: accounts.find_user(db, name) for name in ("ceo", "sales.north", "rep.east")}
        ctx = pages.Ctx(
            path=path,
            db=db,
            today=today,
            now=now,
            target_hours=config.handoff_target_hours(),
            users=users,
            region_ids=dict(db.rows("SELECT code, region_id FROM regions")),
            category_ids=dict(db.rows("SELECT code, category_id FROM categories")),
        )
        rep = users["rep.east"]
        customer = writes._customers(db, rep)[0]

        def invalidate() -> None:  # a real entry, so the data version moves and every cache misses
            writes.submit(db, rep, entries.new_key(), customer, today, now)

        # 1. page data (peak RSS over this phase only)
        gc.collect()
        reset = _reset_peak_rss()
        rss_before = _status_kb("VmRSS")
        say(f"[{activities:,}] page data ...", flush=True)
        result["pages"] = [
            pages.measure(ctx, page, variant, args.runs, invalidate)
            for page in pages.PAGES
            for variant in page.variants
        ]
        result["rss"] = {
            "pages_peak_mb": _status_kb("VmHWM") / 1024,
            "before_pages_mb": rss_before / 1024,
            "peak_is_phase_only": reset,
        }

        # 2./3. the baselines, against the overview's own numbers
        say(f"[{activities:,}] baselines ...", flush=True)
        scope = pages.scope_for(ctx, pages.DASHBOARD_VARIANTS[0])
        view = kpis.overview(db, scope)
        ours = {"current": view.current, "previous": view.previous}
        periods = {"current": (scope.start, scope.end), "previous": (scope.previous().start, scope.start)}
        plain_s, plain = baselines.timed(lambda: {k: baselines.plain_sql(db, *p) for k, p in periods.items()})
        gc.collect()
        _reset_peak_rss()
        load_s, frames = baselines.timed(lambda: baselines.pandas_load(db))
        compute_s, pan = baselines.timed(
            lambda: {k: baselines.pandas_kpis(frames, *p) for k, p in periods.items()}
        )
        pandas_rss = _status_kb("VmHWM") / 1024
        frames.clear()  # the pandas copy of the tables, gone before the writes are measured
        gc.collect()
        overview_cold = next(
            r["cold_s"] for r in result["pages"] if r["page"] == "overview" and r["variant"] == "default"
        )
        result["baselines"] = {
            "overview_cold_s": overview_cold,
            "plain_sql_s": plain_s,
            "plain_sql_queries": 2 * len(baselines.PLAIN_SQL),
            "pandas_load_s": load_s,
            "pandas_compute_s": compute_s,
            "pandas_s": load_s + compute_s,
            "pandas_peak_rss_mb": pandas_rss,
            "pandas_ratio": (load_s + compute_s) / overview_cold,
            "plain_sql_ratio": plain_s / overview_cold,
            "disagreements": _disagreements(ours, {"plain_sql": plain, "pandas": pan}),
        }

        # 4. the write path
        say(f"[{activities:,}] writes ...", flush=True)
        result["writes"] = {
            "one": writes.throughput(db, rep, 1, args.writes, today, now),
            "twenty": writes.throughput(db, rep, 20, max(1, args.writes // 20), today, now),
            "delay": writes.visibility_delay(db, path, rep, scope, today, now, args.runs),
        }
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()  # closes the database: the browser's server needs the file
    result["rss"]["process_peak_mb"] = _status_kb("VmHWM") / 1024

    # 7. the browser
    if not args.skip_browser:
        from bench import browser

        say(f"[{activities:,}] browser ...", flush=True)
        result["browser"] = browser.measure(
            work, args.as_of.isoformat(), "ceo", accounts.DEMO_PASSWORD, max(1, min(args.runs, 3))
        )

    # 8. a million-row import into the same database (after the browser: it adds a year of orders)
    if not args.skip_import:
        from bench import imports
        from mktsales.db import Database

        say(f"[{activities:,}] import of {args.import_rows:,} orders ...", flush=True)
        with Database(work) as db:
            result["import"] = imports.measure(db, work.parent, args.import_rows)
    result["load_after"] = os.getloadavg()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--activities", type=int, default=10_000_000, help="demo size (default 10,000,000)")
    parser.add_argument("--sizes", help="several sizes, comma separated (overrides --activities)")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement; medians are reported")
    parser.add_argument(
        "--writes", type=int, default=600, help="orders per write-throughput run (1 writer, then 20)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="JSON results (default bench/results/latest.json)"
    )
    parser.add_argument("--skip-browser", action="store_true", help="leave out the browser measurement")
    parser.add_argument("--skip-import", action="store_true", help="leave out the million-row import")
    parser.add_argument(
        "--import-rows",
        type=int,
        default=1_000_000,
        help="orders in the import measurement (default 1,000,000)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    parser.add_argument("--data-dir", type=Path, default=build.DATA, help="where demo databases are kept")
    parser.add_argument(
        "--rebuild", action="store_true", help="build the demo database even if a current one exists"
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else [args.activities]

    import streamlit  # noqa: F401 (its loggers exist once it is imported)

    for name in list(logging.root.manager.loggerDict):
        if name.startswith(
            "streamlit"
        ):  # "No runtime found": the app's caches used outside the app, as meant
            logging.getLogger(name).setLevel(logging.ERROR)
    started = time.perf_counter()
    results = {
        "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {
            "runs": args.runs,
            "writes": args.writes,
            "seed": args.seed,
            "as_of": args.as_of.isoformat(),
            "browser": not args.skip_browser,
        },
        "sizes": {str(n): measure_size(args, n) for n in sizes},
    }
    results["targets"] = evaluate(results)
    results["seconds"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print_table(results, sys.stdout)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
