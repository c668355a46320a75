from pathlib import Path

import pytest
import yaml

from auditor.input.synthetic import snapshot_from_spec

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
API_EXAMPLES = SHARED / "azure-api-examples"


def load_spec(text: str) -> dict:
    return yaml.safe_load(text)


@pytest.fixture
def estate():
    """Build a snapshot from an inline topology description (see auditor.input.synthetic)."""
    return lambda text: snapshot_from_spec(yaml.safe_load(text) if isinstance(text, str) else text)
