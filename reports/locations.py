"""Where each resource sits in the input files: (uri, line of its `"id"`), keyed by normalized ARM id.

Built in one pass over the inputs, so a report looks a finding's place up in O(1).
"""

from __future__ import annotations

import re
from pathlib import Path

from auditor.model.ids import norm_id

ID_LINE = re.compile(r'"id"\s*:\s*"([^"]+)"')


def file_uri(path: str) -> str:
    """The path relative to the working directory when it is below it, else a file URI."""
    p = Path(path)
    try:
        p = p.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return p.as_posix() if not p.is_absolute() else p.resolve().as_uri()
    return p.as_posix()


def id_lines(inputs: list[str]) -> dict[str, tuple[str, int]]:
    """norm id -> (input uri, line of its first "id"), for the inputs that can be read now."""
    lines: dict[str, tuple[str, int]] = {}
    for path in inputs:
        try:
            with open(path, encoding="utf-8-sig") as fh:
                # once per file: resolving costs system calls, and a snapshot has dozens of ids per VNet
                uri = file_uri(path)
                for number, line in enumerate(fh, 1):
                    if '"id"' not in line:  # most lines; cheaper than the regex
                        continue
                    for match in ID_LINE.finditer(line):
                        lines.setdefault(norm_id(match.group(1)), (uri, number))
        except (OSError, UnicodeDecodeError):
            continue
    return lines
