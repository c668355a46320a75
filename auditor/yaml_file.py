"""A YAML file a user writes (the scan config, the intents), read with one-line errors naming the file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import yaml

from auditor.errors import InputError


def read_yaml(path: Path, what: str) -> Any:
    """The file's data (a UTF-8 byte order mark is dropped); InputError naming the file, `what` it is and the
    line of a syntax error."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read {what} ({exc})") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise InputError(f"{path}: not valid YAML{line}") from None


_WHERE = re.compile(r"^(?P<problem>.*) - at `\$\.(?P<key>[^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]+)`(?: - at `\$\.(?P<parent>[^`]+)`)?$")


def key_problem(exc: msgspec.ValidationError) -> str:
    """msgspec's message about the file's data, reworded to name the key first: `key: problem`."""
    text = str(exc)
    if m := _UNKNOWN.match(text):
        key = f"{m['parent']}.{m['key']}" if m["parent"] else m["key"]
        return f"unknown key {key!r}"
    if m := _WHERE.match(text):
        problem = m["problem"].replace(" | null", "")  # every key may be left out
        return f"{m['key']}: {problem[0].lower()}{problem[1:]}"
    return text
