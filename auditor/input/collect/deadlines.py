"""Wall-clock limits of a collection: a deadline per call, one for the whole scan, and a stop (Ctrl-C).

`read_timeout` bounds one socket read; a response trickling a byte at a time never trips it.
A call's clock bounds the whole call (every page, retry and Retry-After wait): the scheduler
stops waiting for a call at its deadline and records it as timed out, and the call's thread
is told through its clock: its connection is shut (ending a read in progress), requests get
azure-core's operation `timeout` and a read timeout no longer than what is left, and pages
and resources after the deadline are refused.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from auditor.input.collect.errors import CallStopped, CallTimedOut, Interrupted

CALL_TIMEOUT = 300.0  # seconds for one list call, every page of it


@dataclass
class Limits:
    call_timeout: float | None = CALL_TIMEOUT
    max_duration: float | None = None  # the whole scan; None: no limit
    stop: threading.Event = field(default_factory=threading.Event)  # set: end every call now (Ctrl-C)


class CallClock:
    """One call's deadline, started when the call starts running; ended early by the scan."""

    def __init__(self, limits: Limits, scan_deadline: float | None, read_timeout: float | None = None):
        self.limits, self.scan_deadline, self.read_timeout = limits, scan_deadline, read_timeout
        self.deadline: float | None = scan_deadline  # until started
        self.ended: CallStopped | None = None  # why the scan stopped waiting for the call
        self._socket: socket.socket | None = None  # the connection the call is reading from, if any
        self._lock = threading.Lock()
        self._given_up = threading.Event()  # wakes a wait in the call's thread

    def start(self) -> None:
        if self.limits.call_timeout is not None:
            own = time.monotonic() + self.limits.call_timeout
            self.deadline = own if self.scan_deadline is None else min(own, self.scan_deadline)

    def overdue(self, now: float) -> CallStopped | None:
        """Why the call must end now, or None."""
        if self.limits.stop.is_set():
            return Interrupted("interrupted before the call finished")
        if self.scan_deadline is not None and now >= self.scan_deadline:
            return CallTimedOut(
                f"the scan reached --max-duration {self.limits.max_duration:g} s before the call finished"
            )
        if self.deadline is not None and now >= self.deadline:
            return CallTimedOut(
                f"the call did not finish within --call-timeout {self.limits.call_timeout:g} s"
            )
        return None

    def end(self, reason: CallStopped) -> None:
        """The scan gives up on the call: shut its connection, so a read in progress ends now."""
        with self._lock:
            self.ended = reason
            if self._socket is not None:
                _shut(self._socket)
        self._given_up.set()

    def attach(self, sock: Any) -> None:
        with self._lock:
            self._socket = sock if isinstance(sock, socket.socket) else None
            if self.ended is not None and self._socket is not None:
                _shut(self._socket)

    def detach(self) -> None:
        """The response is read; the connection goes back to the pool for other calls."""
        with self._lock:
            self._socket = None

    def check(self) -> None:
        """In the call's thread: raise if the call is over."""
        reason = self.ended or self.overdue(time.monotonic())
        if reason is not None:
            raise reason

    def pause(self, seconds: float) -> None:
        """In the call's thread: wait, ending early if the scan gives up on the call (then raise)."""
        self._given_up.wait(seconds)
        self.check()

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.001)

    def request_options(self) -> dict[str, Any]:
        """Keywords for one request: azure-core's operation timeout and a read timeout within the deadline."""
        self.check()
        left = self.remaining()
        if left is None:
            return {}
        return {
            "timeout": left,
            "read_timeout": left if self.read_timeout is None else min(self.read_timeout, left),
        }


def _shut(sock: socket.socket) -> None:
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the descriptor itself, under any TLS wrapper
    except OSError:
        pass


_local = threading.local()


def current() -> CallClock | None:
    """The clock of the call this thread runs, if any."""
    return getattr(_local, "clock", None)


@contextmanager
def running(clock: CallClock) -> Iterator[CallClock]:
    clock.start()
    _local.clock = clock
    try:
        yield clock
    finally:
        _local.clock = None


def pause(seconds: float) -> None:
    """Wait in a call's thread: cut to what is left of the call, and ended when the scan gives up on it."""
    clock = current()
    if clock is None:
        time.sleep(seconds)
    else:
        clock.pause(bounded_wait(seconds))


def bounded_wait(seconds: float) -> float:
    """A retry wait, cut to what is left of the current call."""
    clock = current()
    left = clock.remaining() if clock is not None else None
    return seconds if left is None else min(seconds, left)
