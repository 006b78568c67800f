"""Runs app.py unchanged from outside the project root.

AppTest re-detects a folder named pages/ beside the main script on every run and then runs the app
in Streamlit's legacy auto-discovery mode, in which reruns do not execute (checked on 1.67). The
real server does that only for the first session after start, which test_first_session_* covers
by running app.py itself.
"""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parents[2] / "app.py"), run_name="__main__")
