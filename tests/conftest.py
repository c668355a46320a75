import sys
from pathlib import Path

import pytest
import yaml

from auditor.input.synthetic import snapshot_from_spec

DATA = Path(__file__).resolve().parent / "data"
API_EXAMPLES = DATA / "azure-api-examples"  # Azure's REST API examples, copied (see its README)
SARIF_SCHEMA = DATA / "schemas" / "sarif-schema-2.1.0.json"


def load_spec(text: str) -> dict:
    return yaml.safe_load(text)


@pytest.fixture
def estate():
    """Build a snapshot from an inline topology description (see auditor.input.synthetic)."""
    return lambda text: snapshot_from_spec(yaml.safe_load(text) if isinstance(text, str) else text)


def run_cli(capsys, monkeypatch, *args) -> tuple[int, str, str]:
    """Run the console script's entry point in-process with these arguments: (exit code, stdout, stderr)."""
    from auditor import cli

    monkeypatch.setattr(sys, "argv", ["vnet-audit", *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (0 if code is None else code), out, err
