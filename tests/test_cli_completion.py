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


def test_the_hook_completes_command_names():
    env = {**os.environ, "_VNET_AUDIT_COMPLETE": "complete_bash", "COMP_WORDS": "vnet-audit sc", "COMP_CWORD": "1"}
    done = subprocess.run([VNET_AUDIT], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0 and done.stdout.split() == ["scan", "schema"], done
