"""Log output for -v/--verbose, --debug and --log-format: to stderr, secrets redacted."""

from __future__ import annotations

import json
import logging
import sys
import time

from auditor import terminal
from auditor.redact import redact

FORMATS = ("text", "json")
# azure-identity's credential chain and azure-core's HTTP log (HttpLoggingPolicy redacts headers
# outside its allow-list; our formatters redact whatever else looks like a secret)
AZURE_DEBUG = ("azure.identity", "azure.core.pipeline.policies.http_logging_policy")
_COLOURS = {"DEBUG": "2", "INFO": "36", "WARNING": "33", "ERROR": "31", "CRITICAL": "31"}


class TextFormatter(logging.Formatter):
    def __init__(self, colour: bool = False):
        super().__init__("vnet-audit: %(levelname)s %(name)s: %(message)s")
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        if self.colour and (code := _COLOURS.get(record.levelname)):
            return f"\x1b[{code}m{text}\x1b[0m"
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        doc = {"time": f"{stamp}.{int(record.msecs):03d}Z", "level": record.levelname,
               "logger": record.name, "message": redact(record.getMessage())}
        if record.exc_info:
            doc["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(doc)


class _Handler(logging.StreamHandler):
    """Writes to the sys.stderr of the moment (tests swap it)."""

    def __init__(self):
        super().__init__(sys.stderr)


def configure(verbose: bool = False, debug: bool = False, log_format: str = "text") -> None:
    """Install the handler on our loggers and azure's; levels from the flags and -q."""
    handler = _Handler()
    json_lines = log_format == "json"
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter(terminal.colour(sys.stderr)))
    ours = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    levels = {"auditor": logging.ERROR if terminal.state.quiet else ours, "azure": logging.CRITICAL + 1}
    if debug and not terminal.state.quiet:
        levels.update({"azure": logging.WARNING, **{name: logging.DEBUG for name in AZURE_DEBUG}})
    for name, level in levels.items():
        _install(logging.getLogger(name), handler if name in ("auditor", "azure") else None, level)
    for name in AZURE_DEBUG:
        if name not in levels:
            logging.getLogger(name).setLevel(logging.NOTSET)


def _install(logger: logging.Logger, handler: logging.Handler | None, level: int) -> None:
    for old in [h for h in logger.handlers if isinstance(h, (_Handler, logging.NullHandler))]:
        logger.removeHandler(old)
    if handler is not None:
        logger.addHandler(handler)
    logger.setLevel(level)


def quieten() -> None:
    """-q given after the command: errors only from here on."""
    logging.getLogger("auditor").setLevel(logging.ERROR)
    logging.getLogger("azure").setLevel(logging.CRITICAL + 1)
    for name in AZURE_DEBUG:
        logging.getLogger(name).setLevel(logging.NOTSET)
