"""python -m mktsales: see mktsales/cli.py."""

import sys

from mktsales.cli import main

sys.exit(main())
