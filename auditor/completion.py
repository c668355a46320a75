"""Shell completion through typer's --install-completion/--show-completion, with the shell named.

typer finds the shell from the process tree (shellingham) and ignores a shell named after the flag;
outside an interactive shell that fails. Here the flag always carries a shell: the one named, else
the detected one, else $SHELL's."""

from __future__ import annotations

import os

FLAGS = ("--show-completion", "--install-completion")
SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
# makes typer's two options take the shell as their value (typer reads it when the app is built)
VALUE_MODE = "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"


def with_shell(argv: list[str]) -> list[str]:
    """argv, with a shell after a completion flag; unchanged when there is no such flag."""
    at = next((i for i, arg in enumerate(argv) if arg in FLAGS), None)
    if at is None:
        return argv
    os.environ[VALUE_MODE] = "1"
    if at + 1 < len(argv) and argv[at + 1] in SHELLS:
        return argv
    return [*argv[:at + 1], detected_shell(), *argv[at + 1:]]


def detected_shell() -> str:
    try:
        import shellingham

        return shellingham.detect_shell()[0]
    except Exception:  # no shell in the process tree (cron, CI, an IDE): $SHELL names the user's
        return os.path.basename(os.environ.get("SHELL", "")) or "bash"
