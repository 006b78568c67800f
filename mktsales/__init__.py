"""mktsales: marketing and sales numbers, the quick entries, the board and promotions.

The package wires one thing when it is imported: the summary tables keep themselves current
through the database's hooks (mktsales.db knows nothing of them), so every Database opened in
this process, by the app, the command line, a backup or a test, keeps them current on every write.
"""

from mktsales import db as _db
from mktsales import summaries as _summaries

_db.add_hooks(opened=_summaries.opened, before_commit=_summaries.before_commit)
