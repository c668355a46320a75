"""The collector's sources: name -> the module that reads it, and a line for `--source` help.

The CLI's help and validation and `collect()` read this table, never a list of their own.
Each module has `read_calls(clients, credential, subscription_ids, page_size) -> list[Call]`.
Modules are named, not imported, so `vnet-audit --help` does not load the Azure SDK.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Source:
    module: str
    description: str
    per_subscription: bool = False  # its calls read one subscription each: reads start as discovery finds them

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


SOURCES: dict[str, Source] = {
    "arm": Source("auditor.input.collect.arm", "network client per subscription", per_subscription=True),
    "graph": Source("auditor.input.collect.graph",
                    "Azure Resource Graph, batched across subscriptions (large estates)"),
}


def help_text() -> str:
    return "; ".join(f"{name}: {source.description}" for name, source in SOURCES.items()) + "."


def choices() -> str:
    """'arm or graph', for error messages."""
    names = list(SOURCES)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
