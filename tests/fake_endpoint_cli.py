"""Run the `vnet-audit` console entry point against a fake ARM: `python tests/fake_endpoint_cli.py BASE_URL CA_FILE ARGS...`.

The CLI has no endpoint or credential option; this points `collect()` at the fake with a static token.
"""

import sys

from auditor.input.collect import runner
from auditor.input.collect.auth import StaticTokenCredential

base_url, ca_file, *args = sys.argv[1:]
real_collect = runner.collect


def collect(scope, credential=None, **kwargs):
    kwargs["transport_kwargs"] = {**(kwargs.get("transport_kwargs") or {}), "connection_verify": ca_file}
    return real_collect(scope, StaticTokenCredential(), base_url_override=base_url, **kwargs)


runner.collect = collect
sys.argv = ["vnet-audit", *args]
from auditor.cli import run  # noqa: E402

run()
