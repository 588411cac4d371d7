"""Shared by the benchmark modules: writing their result rows."""

from __future__ import annotations

import json


def write_json(path, benchmark: str, rows: list, **extra) -> None:
    """Write ``{"benchmark": ..., **extra, "rows": rows}`` to ``path`` when a path is given."""
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"benchmark": benchmark, **extra, "rows": rows}, handle, indent=2)
