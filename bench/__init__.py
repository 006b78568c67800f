"""The benchmark suite of issue 9: `python -m bench --activities N` (see bench/README.md)."""
