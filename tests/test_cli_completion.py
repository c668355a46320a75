"""Shell completion through typer: --show-completion prints a script, and the script's hook completes."""

import os
import subprocess
import sys
from pathlib import Path

VNET_AUDIT = Path(sys.executable).with_name("vnet-audit")


def test_show_completion_prints_a_bash_script():
    env = {**os.environ, "SHELL": "/bin/bash"}
    done = subprocess.run([VNET_AUDIT, "--show-completion", "bash"], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "_vnet_audit_completion()" in done.stdout and "complete " in done.stdout
    done = subprocess.run([VNET_AUDIT, "--show-completion", "zsh"], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0 and "#compdef vnet-audit" in done.stdout  # the shell named, not $SHELL's


def test_without_a_named_shell_shell_detection_or_shell_env_decides(monkeypatch):
    from auditor import completion

    monkeypatch.setenv(completion.VALUE_MODE, "")  # restored after the test: with_shell sets it
    assert completion.with_shell(["scan", "--demo"]) == ["scan", "--demo"]
    monkeypatch.setattr(completion, "detected_shell", lambda: "fish")
    assert completion.with_shell(["--show-completion"]) == ["--show-completion", "fish"]
    assert completion.with_shell(["--install-completion", "zsh"]) == ["--install-completion", "zsh"]


def test_the_hook_completes_command_names():
    env = {**os.environ, "_VNET_AUDIT_COMPLETE": "complete_bash",
           "COMP_WORDS": "vnet-audit sc", "COMP_CWORD": "1"}
    done = subprocess.run([VNET_AUDIT], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0 and done.stdout.split() == ["scan", "schema"], done
