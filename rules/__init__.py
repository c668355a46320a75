"""The built-in rule pack: one module per rule, `rules/<group>/<ID>.py`, each holding `rule`.

Registered as the `builtin` entry point of the `vnet_audit.rules` group; a third-party
pack registers its own entry points (a `Rule`, a module holding `rule`, or a list).
"""

import importlib
import pkgutil

from auditor.engine.rule import Rule


def _discover() -> list[Rule]:
    found = []
    for info in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        module = importlib.import_module(info.name)
        if isinstance(getattr(module, "rule", None), Rule):
            found.append(module.rule)
    return sorted(found, key=lambda r: r.id)


RULES = _discover()
