"""A database held by another process gives a plain message, not a traceback."""

import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.conftest import ENTRY, signed_in

HOLD = (  # another process that opens the file and keeps it, as a CLI run would
    "import sys, time; from mktsales.db import Database; d = Database(sys.argv[1]); "
    "print('held', flush=True); time.sleep(60)"
)


def test_a_database_held_by_another_process_is_explained(app_env: Path) -> None:
    root = Path(__file__).parent.parent.parent
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(app_env)], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
        assert not at.exception
        assert (
            at.error
            and "无法打开数据库" in at.error[0].value
            and "in use by another process" in at.error[0].value
        )
        assert not at.metric
    finally:
        holder.kill()
        holder.wait()
    signed_in(at, "boss")  # the file is free again: the next rerun opens it
    assert len(at.metric) == 13  # 11 KPI tiles + overdue answers and unacknowledged plans
