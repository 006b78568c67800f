"""Serve mktsales: `streamlit run serve.py` (what `make run` does).

app.py is the app; this file puts the upload gate in front of Streamlit's upload endpoint, so that
only signed-in users whose role has a file widget can send files (issue 23,
docs/security/uploads.md). Streamlit runs it as an ASGI app (`app = st.App(...)`) and reads
.streamlit/config.toml from this directory, as it does for app.py.
"""

import streamlit as st
from starlette.middleware import Middleware

from mktsales.upload_gate import UploadGate

app = st.App("app.py", middleware=[Middleware(UploadGate)])
