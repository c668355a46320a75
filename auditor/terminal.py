"""What this run may print on stderr besides errors: quiet mode, colour, progress bars."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO


@dataclass
class Terminal:
    quiet: bool = False  # -q: errors only
    deferred: list[str] = field(default_factory=list)  # warnings said at the end of a run


state = Terminal()


def reset() -> None:
    state.quiet = False
    state.deferred.clear()


def set_quiet(flag: bool) -> bool:
    """Quiet when the top-level -q or the command's -q was given; returns the result."""
    state.quiet = state.quiet or flag
    return state.quiet


def is_terminal(stream: IO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def colour(stream: IO) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    return is_terminal(stream) and not os.environ.get("NO_COLOR")


def progress(stream: IO) -> bool:
    """Progress bars only on a terminal, and not with -q."""
    return is_terminal(stream) and not state.quiet
