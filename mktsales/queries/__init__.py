"""Named queries: one .sql file each, read once, always run with bound parameters."""

from functools import cache
from importlib import resources


@cache
def sql(name: str) -> str:
    """The text of the named query ``name``.sql."""
    return resources.files(__name__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
