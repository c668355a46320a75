"""Message wording shared by rules: lists of names, overlap pairs."""

from __future__ import annotations

from collections.abc import Iterable


def name_list(names: Iterable[str], limit: int = 5) -> str:
    """'a, b, c' or 'a, b, c, d, e and 7 more' (sorted, for stable messages)."""
    items = sorted(dict.fromkeys(names), key=str.lower)
    head = ", ".join(items[:limit])
    return head if len(items) <= limit else f"{head} and {len(items) - limit} more"
