"""The `scan --config` file: the options of a scheduled scan, written down once (YAML).

Keys are the long flag names with underscores; the scope sits under `scope:`. A flag given
on the command line wins over the file. Paths are relative to the current directory, as flags are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec

from auditor.engine.rule import Severity
from auditor.errors import InputError
from auditor.yaml_file import key_problem, read_yaml


class Scope(msgspec.Struct, forbid_unknown_fields=True):
    subscriptions: list[str] | None = None
    all_subscriptions: bool | None = None
    tenants: list[str] | None = None
    management_groups: list[str] | None = None


class ScanConfig(msgspec.Struct, forbid_unknown_fields=True):
    scope: Scope = msgspec.field(default_factory=Scope)
    source: str | None = None
    cloud: str | None = None
    formats: list[str] | str | None = None
    out: str | None = None
    waivers: str | None = None
    baseline: str | None = None
    history: str | None = None
    intents: str | None = None
    no_history: bool | None = None
    history_keep: Annotated[int, msgspec.Meta(ge=1)] | None = None
    history_max_age_days: Annotated[int, msgspec.Meta(ge=1)] | None = None
    fail_on: Severity | None = None
    fail_on_new: Severity | None = None
    fail_on_incomplete: bool | None = None
    call_timeout: Annotated[float, msgspec.Meta(ge=0.1)] | None = None
    max_duration: Annotated[float, msgspec.Meta(ge=0.1)] | None = None
    concurrency: Annotated[int, msgspec.Meta(ge=1, le=256)] | None = None
    rules: list[str] | None = None
    skip_rules: list[str] | None = None


# config key -> the `scan` parameter it sets, where the names differ
_PARAM = {"subscriptions": "subscription", "tenants": "tenant", "management_groups": "management_group",
          "formats": "format"}
_PATHS = {"out", "waivers", "baseline", "history", "intents"}
def load_config(path: Path) -> ScanConfig:
    """Read and check the file; InputError, one line naming the file and key, on any problem."""
    data = read_yaml(path, "config file")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{path}: a config file is a mapping of keys, not {type(data).__name__}")
    try:
        return msgspec.convert(data, ScanConfig)
    except msgspec.ValidationError as exc:
        raise InputError(f"{path}: {key_problem(exc)}") from None


def scan_params(config: ScanConfig) -> dict[str, Any]:
    """The `scan` parameters the file sets, as the command line would give them."""
    values = {**msgspec.structs.asdict(config.scope), **msgspec.structs.asdict(config)}
    del values["scope"]
    params = {}
    for key, value in values.items():
        if value is None:
            continue
        if key == "formats" and isinstance(value, list):
            value = ",".join(value)
        elif key in _PATHS:
            value = Path(value)
        params[_PARAM.get(key, key)] = value
    return params
