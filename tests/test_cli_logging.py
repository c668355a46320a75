"""Global -v/--verbose, --debug, --log-format and -q: what reaches stderr, and that secrets never do."""

import io
import json
import logging
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_cli as run  # noqa: E402

from auditor import logs, terminal  # noqa: E402

EXPORTS = Path(__file__).parent / "data" / "exports"
AZ = [EXPORTS / "az_vnet_list.json", EXPORTS / "az_nsg_list.json"]
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJhbGljZUBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJlLXNlY3JldA"


@pytest.fixture(autouse=True)
def _silent_logging_after():
    yield
    terminal.reset()
    logs.configure()


def json_lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_verbose_says_what_is_read_per_subscription(capsys, monkeypatch, tmp_path):
    code, _, err = run(capsys, monkeypatch, "--verbose", "scan", "--demo", "--format", "json", "-o", tmp_path)
    assert code == 0
    assert "INFO auditor.input.collect.orchestrator: reading virtualNetworks in subscription " in err
    assert re.search(r" read: \d+ calls, 0 failed", err)
    code, _, err = run(capsys, monkeypatch, "scan", "--demo", "--format", "json", "-o", tmp_path)
    assert code == 0 and "INFO" not in err  # not without -v


def test_json_log_lines_parse(capsys, monkeypatch, tmp_path):
    code, _, err = run(capsys, monkeypatch, "-v", "--log-format", "json", "collect", "--demo",
                       "-o", tmp_path / "s.json")
    records = json_lines(err)
    assert code == 0 and len(records) > 5
    assert all(set(r) == {"time", "level", "logger", "message"} for r in records)
    assert {r["level"] for r in records} == {"INFO"} and records[0]["time"].endswith("Z")


def test_a_bad_log_format_is_one_line(capsys, monkeypatch):
    code, _, err = run(capsys, monkeypatch, "--log-format", "xml", "rules")
    assert code == 2 and err == "vnet-audit: error: --log-format must be text or json, not 'xml'\n"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_debug_http_log_redacts_authorization_cookies_and_tokens(capsys, log_format):
    from azure.core.pipeline import PipelineContext, PipelineRequest
    from azure.core.pipeline.policies import HttpLoggingPolicy
    from azure.core.rest import HttpRequest

    logs.configure(debug=True, log_format=log_format)
    request = HttpRequest("GET", "https://management.azure.com/subscriptions?api-version=2022-12-01",
                          headers={"Authorization": f"Bearer {JWT}", "Cookie": "session=s3cr3t-cookie"})
    HttpLoggingPolicy().on_request(PipelineRequest(request, PipelineContext(None)))
    http_log = logging.getLogger("azure.core.pipeline.policies.http_logging_policy")
    http_log.info("Request body: {'access_token': '%s', 'client_secret': 'hunter2'}", JWT)
    http_log.info("Authorization: Bearer %s; Cookie: session=s3cr3t-cookie", JWT)
    http_log.info("Authorization: Bearer opaque-t0ken")
    logging.getLogger("azure.identity").info("AzureCliCredential.get_token failed: no az")
    err = capsys.readouterr().err
    assert "management.azure.com" in err and "AzureCliCredential" in err  # the log is there
    for secret in (JWT, "eyJ", "s3cr3t-cookie", "hunter2", "opaque-t0ken"):
        assert secret not in err
    assert "REDACTED" in err
    if log_format == "json":
        assert len(json_lines(err)) == len(err.splitlines())


def test_without_debug_azure_stays_quiet(capsys):
    logs.configure(verbose=True)
    logging.getLogger("azure.identity").warning("EnvironmentCredential.get_token failed")
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").info("Request URL: x")
    assert capsys.readouterr().err == ""


def test_quiet_leaves_only_errors(capsys, monkeypatch, tmp_path):
    code, _, err = run(capsys, monkeypatch, "report", *AZ, "--format", "md", "-o", tmp_path / "r.md")
    assert code == 0 and "vnet-audit: exit 0" in err and "wrote" in err
    for args in (["-q", "report"], ["report", "-q"]):  # before or after the command
        code, _, err = run(capsys, monkeypatch, *args, *AZ, "--rules", "PEER*", "--format", "md", "-o", tmp_path / "r.md")
        assert code == 0 and err == ""
    # checks the input limits are named even with -q, as an incomplete subscription is
    code, _, err = run(capsys, monkeypatch, "-q", "report", *AZ, "--format", "md", "-o", tmp_path / "r.md")
    assert code == 0 and err and all(" limited" in line for line in err.splitlines())
    code, _, err = run(capsys, monkeypatch, "-q", "-v", "evaluate", tmp_path / "missing.json")
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("vnet-audit: error: ")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert terminal.colour(Tty()) and not terminal.colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not terminal.colour(Tty())


def test_no_color_leaves_log_lines_plain(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(sys, "stderr", Tty())
    logs.configure(verbose=True)
    logging.getLogger("auditor.test").info("plain")
    assert sys.stderr.getvalue() == "vnet-audit: INFO auditor.test: plain\n"
    monkeypatch.delenv("NO_COLOR")
    logs.configure(verbose=True)
    logging.getLogger("auditor.test").info("coloured")
    assert "\x1b[36m" in sys.stderr.getvalue()  # proves the check above is not vacuous


def test_progress_bars_only_on_a_terminal(monkeypatch):
    from auditor.input.collect.runner import progress_reporter

    assert not terminal.progress(io.StringIO()) and terminal.progress(Tty())
    terminal.set_quiet(True)
    assert not terminal.progress(Tty())
    with progress_reporter(True) as bar:  # pytest's stderr is no terminal
        assert bar is None
