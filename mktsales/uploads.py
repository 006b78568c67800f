"""Upload limits (issue 23): what each file widget accepts, and the server-wide cap.

Streamlit's upload endpoint checks only the server-wide ``server.maxUploadSize`` (in
.streamlit/config.toml); a widget's ``max_upload_size`` is enforced by the browser alone. So the
server-wide cap is the largest file any feature needs, and each widget states its own, smaller one.
A test keeps config.toml equal to ``SERVER_MB``.
"""

from __future__ import annotations

from mktsales import photos

MB = 1024 * 1024
IMPORT_MB = 50  # a CSV or Excel file on the import page (Excel's 1,048,575 rows fit well within)
PHOTO_MB = photos.MAX_PHOTO_BYTES // MB  # one photo on the board or in an execution report
SERVER_MB = max(IMPORT_MB, PHOTO_MB)  # = server.maxUploadSize in .streamlit/config.toml
