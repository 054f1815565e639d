"""Write docs/cli.md from the real `--help` of every command (`--check` verifies it is current)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cli.md"
COMMANDS = [
    [],
    ["import"],
    ["import", "higgs"],
    ["import", "edges"],
    ["import", "cascades"],
    ["import", "netdiffuser"],
    ["import", "persons"],
    ["import", "ties"],
    ["import", "posts"],
    ["info"],
    ["sentiment"],
    ["alerts"],
    ["influencers"],
    ["cascades"],
    ["reach"],
    ["forecast"],
    ["plan"],
    ["simulate"],
    ["migrate"],
    ["demo"],
    ["serve"],
    ["listen"],
    ["listen", "add-feed"],
    ["listen", "add-mastodon"],
    ["listen", "add-rule"],
    ["listen", "run"],
    ["listen", "import"],
    ["listen", "status"],
    ["listen", "alerts"],
    ["listen", "correct"],
    ["inbox"],
    ["inbox", "assign"],
    ["inbox", "draft"],
    ["inbox", "approve"],
    ["inbox", "send"],
    ["inbox", "resolve"],
    ["inbox", "stats"],
    ["inbox", "audit"],
    ["campaign"],
    ["campaign", "create"],
    ["campaign", "list"],
    ["campaign", "show"],
    ["tenant"],
    ["tenant", "create"],
    ["tenant", "list"],
    ["apikey"],
    ["apikey", "create"],
    ["apikey", "list"],
    ["apikey", "revoke"],
    ["erase"],
    ["review"],
    ["review", "list"],
    ["review", "approve"],
    ["review", "reject"],
]


def help_text(args: list[str]) -> str:
    env = {
        **os.environ,
        "COLUMNS": "100",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "_TYPER_FORCE_DISABLE_TERMINAL": "1",
    }
    out = subprocess.run(
        [sys.executable, "-m", "grapevine.cli.main", *args, "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return "\n".join(line.rstrip() for line in out.stdout.strip().splitlines())


def render() -> str:
    parts = [
        "# Command line\n",
        "Generated from the real `--help` by `python scripts/cli_docs.py`; a test fails when it",
        "is out of date.\n",
    ]
    for args in COMMANDS:
        title = " ".join(["grapevine", *args])
        parts.append(f"## `{title}`\n\n```\n{help_text(args)}\n```\n")
    return "\n".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not DOC.exists() or DOC.read_text() != text:
            print("docs/cli.md is out of date: run python scripts/cli_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
