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
    ["listen", "add-hackernews"],
    ["listen", "add-bluesky"],
    ["listen", "add-reddit"],
    ["listen", "add-x"],
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
    ["campaign", "init"],
    ["campaign", "create"],
    ["campaign", "edit"],
    ["campaign", "pause"],
    ["campaign", "resume"],
    ["campaign", "end"],
    ["campaign", "participants"],
    ["campaign", "list"],
    ["campaign", "show"],
    ["campaign", "stats"],
    ["campaign", "leaderboard"],
    ["campaign", "misses"],
    ["tenant"],
    ["tenant", "create"],
    ["tenant", "list"],
    ["tenant", "landing"],
    ["apikey"],
    ["apikey", "create"],
    ["apikey", "list"],
    ["apikey", "revoke"],
    ["user"],
    ["user", "add"],
    ["user", "list"],
    ["user", "remove"],
    ["erase"],
    ["review"],
    ["review", "list"],
    ["review", "approve"],
    ["review", "reject"],
    ["coupons"],
    ["coupons", "configure"],
    ["coupons", "pool-import"],
    ["coupons", "issue"],
    ["coupons", "list"],
    ["shop"],
    ["shop", "connect"],
    ["payouts"],
    ["payouts", "approve"],
    ["payouts", "export"],
    ["payouts", "import"],
    ["payouts", "credit"],
    ["payouts", "list"],
    ["outbound"],
    ["outbound", "deliver"],
    ["outbound", "log"],
    ["outbound", "redeliver"],
    ["outbound", "endpoints", "add"],
    ["outbound", "endpoints", "list"],
    ["outbound", "endpoints", "remove"],
    ["report"],
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


EXAMPLES = ROOT / "docs" / "_cli_examples.md"  # written by scripts/cli_examples.py


MISTAKES = """\
**When something is wrong.** A command that cannot do what it was asked prints one line on
stderr, `error: WHAT: WHAT TO DO`, and exits with status 1: a Grapevine error (a bad row names
its file, line and field), a missing file, a folder where a file was expected, a file that is
not UTF-8, an output path in the way. A value outside an option's choices (`--status`,
`--lang`, `--model`, `--format`, `--kind`...) is refused before anything runs, with the choices
(exit status 2); `--help` lists them too.

**`--db`** takes a SQLite file path (`shop.db`, `/data/gv.db`) or a URL (`sqlite:///shop.db`,
`postgresql://...`). Commands that only read (`info`, `cascades`, `reach`, `inbox`, `listen
status`, `campaign list`...) refuse a store that does not exist, naming it, instead of
creating an empty one; `grapevine migrate --db PATH` or an import creates it.

**`inbox send`** sends through a source with a reply API (Mastodon). An item from a feed, a
file or an archive is refused and stays approved: nothing was sent, so nothing counts as a
response. Answer it on the platform, then `grapevine inbox resolve ID --note ...` (counted as
resolved without a reply). `listen correct` takes the inbox's ids (`--item ID`), a post id
(`--post ID`, `post_id` in `grapevine inbox --json`) or `--text`.
"""


OUTPUT = """\
## Output: --format table, json or csv

Every command that prints records takes `--format`:

- `table` (the default): a table that fits the terminal's width (`$COLUMNS`; 80 when the
  output goes to a file or a pipe). Free text wraps inside its cell; numbers, ids and dates are
  never cut. When the columns still do not fit, the least important ones are left out and a
  last line names them: `(not shown at 80 columns: neg, infl, vel, rec, assignee; --format
  csv or json has them)`. Times are UTC, `YYYY-MM-DD HH:MM`; numbers carry their unit
  (`12.5 %`, `3.5 h`, `1,000.00 EUR`).
- `json`: every field with its full value (one JSON document, or one JSON object per line
  where the command streams: `cascades`, `sentiment`, `alerts`). `--json` is the same.
- `csv`: a header and one row per record, full values, for a spreadsheet or `pandas.read_csv`
  (lists joined by `;`). `influencers --csv FILE` still writes every person's scores to FILE;
  `influencers --format csv` prints the top rows of each role with their order and tie-break.
  `plan --format csv` prints the seeds (order, seed, cost, marginal gain); `listen status
  --format csv` the watch rules.

| command | records |
|---|---|
| `inbox`, `inbox audit`, `inbox stats` | inbox items; audit entries; response times per assignee |
| `listen status`, `listen alerts` | watch rules (with their grouping); alerts |
| `campaign list`, `review list` | campaigns (the offer in words); held events |
| `tenant list`, `apikey list` | tenants; keys |
| `cascades`, `reach` | cascade metrics; organic / viral / paid split |
| `influencers` | the top people per role |
| `plan` | the seeds |
| `sentiment`, `alerts` | one record per text (line, id, text, label...); per alert |

Progress (a spinner with the elapsed time, the row counts of an import) is drawn on stderr,
and only when stderr is a terminal: redirected output holds the results alone.

Explanations come first in words and then in figures: an alert reads `5.8× the usual volume
for a Tuesday 05:07 UTC: 226 mentions where about 39 is usual. Statistics: ...`; a role nobody
has data for says what would fill it; ties on a role's score are broken by a second measure
(connectors: betweenness, mavens: cascades, salesmen: exposures), then by id, and marked `=`;
a watch rule prints the grouping it matches with (`"acme bank" OR (#acme AND NOT vacature AND
lang:nl,en)`).
"""


def render() -> str:
    parts = [
        "# Command line\n",
        "Generated from the real `--help` by `python scripts/cli_docs.py`; a test fails when it",
        "is out of date. The worked examples first are real runs, made by",
        "`python scripts/cli_examples.py`.\n",
        MISTAKES,
        OUTPUT,
    ]
    if EXAMPLES.exists():
        parts.append(EXAMPLES.read_text(encoding="utf-8").rstrip() + "\n")
        parts.append("## Reference\n")
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
