"""Ctrl-C during a scan: the first stops the calls and lets what was read be written; a second exits now."""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


@contextmanager
def stop_on_sigint(stop: threading.Event) -> Iterator[threading.Event]:
    """While inside, SIGINT sets `stop` (the collector ends every call within a tick); a second SIGINT
    leaves at once, without writing anything. Only the main thread can own signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame) -> None:
        if stop.is_set():
            os._exit(EXIT_INTERRUPTED)
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
