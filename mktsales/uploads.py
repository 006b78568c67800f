"""Upload limits (issue 23): what each file widget accepts, and the server-wide cap.

Streamlit's upload endpoint checks only the server-wide ``server.maxUploadSize`` (in
.streamlit/config.toml); a widget's ``max_upload_size`` is enforced by the browser alone. So the
server-wide cap is the largest file any feature needs, and each widget states its own, smaller one.
A test keeps config.toml equal to ``SERVER_MB``. Who may upload at all, how large per role and how
much per account: mktsales.upload_gate (in front of Streamlit when started by serve.py).
"""

from __future__ import annotations

from mktsales import import_files, photos

MB = 1024 * 1024
IMPORT_MB = import_files.MAX_FILE_MB  # a CSV or Excel file on the import page (the importer's own limit)
PHOTO_MB = photos.MAX_PHOTO_BYTES // MB  # one photo on the board or in an execution report
SERVER_MB = max(IMPORT_MB, PHOTO_MB)  # = server.maxUploadSize in .streamlit/config.toml

# Who may PUT a file at all (mktsales.upload_gate): the roles that hold a permission with a file
# widget. The import page (admin) takes IMPORT_MB; every other widget is a photo of PHOTO_MB.
IMPORT_PERMISSION = "data.import"
PHOTO_PERMISSIONS = ("board.field_report", "board.plan", "promotion.report_execution")
FRAMING_BYTES = 64 * 1024  # a multipart body's boundary lines and part headers around the file

# What one account may send in WINDOW_SECONDS (all its sessions together): four import-sized
# files, or twelve photos (four board posts of three). Streamlit keeps an uploaded file in memory
# until the browser deletes it or the session ends, so this bounds what one account can pile up.
WINDOW_SECONDS = 600
IMPORT_BUDGET_MB = 4 * IMPORT_MB
PHOTO_BUDGET_MB = 12 * PHOTO_MB
