"""Run the worked examples of docs/cli.md and write them, with their real output, to
docs/_cli_examples.md (which `scripts/cli_docs.py` puts at the top of docs/cli.md).

Every command runs for real, in order, in a temporary folder with its own SQLite store and
the shared data (``GRAPEVINE_DATA_DIR``, default ``../shared/data``); long outputs are
trimmed. Takes a minute or two. Then regenerate the page:

    .venv/bin/python scripts/cli_examples.py && .venv/bin/python scripts/cli_docs.py
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "_cli_examples.md"
DATA = Path(os.environ.get("GRAPEVINE_DATA_DIR", ROOT / ".." / "shared" / "data")).resolve()
SHOWN_DATA = "../shared/data/"
MAX_LINES = 24

FILES = {
    "posts.txt": (
        "The new card is great, setting it up took two minutes\n"
        "Third outage this week, I am done with this bank\n"
        "De app werkt eindelijk weer\n"
    ),
    "mentions.jsonl": "".join(
        json.dumps(post) + "\n"
        for post in [
            {
                "id": "m1",
                "author": "lotte",
                "time": 1714550400,
                "text": "Acme Bank blocked my card again and nobody answers the phone",
                "language": "en",
            },
            {
                "id": "m2",
                "author": "sem",
                "time": 1714554000,
                "text": "Eindelijk: de app van Acme Bank werkt weer #acme",
                "language": "nl",
            },
            {
                "id": "m3",
                "author": "noor",
                "time": 1714557600,
                "text": "Opened an account at Acme Bank in five minutes, impressed",
                "language": "en",
            },
        ]
    ),
    "spring.toml": (
        'name = "spring"\n'
        'goal = "more signups"\n'
        'destinations = ["https://shop.example/welcome"]\n'
        "window_days = 14\n"
        "budget = 500\n"
        'currency = "eur"\n\n'
        "[offer]\n"
        'referrer = { kind = "fixed", amount = 10 }\n'
        'friend = { kind = "percent", amount = 20 }\n'
    ),
}

WEIBO = SHOWN_DATA + "cascades/weibo_sample/weibo_sample_casflow.txt"
NETHEPT = SHOWN_DATA + "graphs/NetHEPT_impc_wc.txt"
WIKI = f"grapevine import edges {SHOWN_DATA}graphs/wiki-Vote.txt --kind trusts --platform wiki"
PLAN = f"grapevine plan {NETHEPT} --k 5 --probabilities weight --steps 3 --random-state 0"

# (title, what it shows, commands); "$ cat FILE" shows a file the example uses.
EXAMPLES: list[tuple[str, str, list[str]]] = [
    (
        "Import",
        "Files go into the store in batches, one transaction each; a re-run adds nothing.",
        [
            f"grapevine import cascades {WEIBO}",
            WIKI,
            WIKI,
        ],
    ),
    (
        "What the store holds: info, cascades, reach",
        "The store's contents, the largest cascade trees, and one cascade's adopters split "
        "into organic, viral and paid.",
        [
            "grapevine info",
            "grapevine cascades --platform cascades --top 5",
            "grapevine reach 75991 --platform cascades",
        ],
    ),
    (
        "Forecast",
        "Each cascade of a file observed for its first hour, its size at 24 h forecast and "
        "set beside the size it reached. Here no older cascade had reached 24 h by any "
        "forecast's time, so the log-linear answers are the observed count, a floor.",
        [f"grapevine forecast {WEIBO} --at 1h --limit 5"],
    ),
    (
        "Plan and simulate",
        "Five seeds for the NetHEPT collaboration graph, with the per-arc probabilities of "
        "the file's third column, then a simulation of the seeds the plan chose (written to "
        "seeds.txt).",
        [
            PLAN,
            "$ cat seeds.txt",
            f"grapevine simulate {NETHEPT} --seeds seeds.txt "
            "--probabilities weight --random-state 0",
        ],
    ),
    (
        "Influencers",
        "Connectors, mavens and salesmen of the email-Eu-core network, each with its reason.",
        [f"grapevine influencers {SHOWN_DATA}graphs/email-Eu-core.txt.gz --top 3"],
    ),
    (
        "Sentiment and alerts",
        "Language and sentiment of each line of a file; the spike alerts a volume series "
        "would have raised.",
        [
            "$ cat posts.txt",
            "grapevine sentiment posts.txt",
            f"grapevine alerts {SHOWN_DATA}buzz/Twitter_volume_AAPL.csv",
        ],
    ),
    (
        "Listening and the inbox",
        "A watch rule, a file of posts run through the pipeline, and the inbox they fill.",
        [
            "grapevine listen add-rule brand '\"acme bank\" OR #acme lang:nl,en'",
            "grapevine listen import mentions.jsonl --format jsonl --platform mastodon",
            "grapevine inbox",
        ],
    ),
    (
        "Tenants, API keys and campaigns",
        "A tenant, an admin key for the API (the secret is shown once), and a referral "
        "campaign from a TOML file.",
        [
            "grapevine tenant create acme",
            "grapevine apikey create --tenant acme --role admin",
            "$ cat spring.toml",
            "grapevine campaign create --tenant acme --file spring.toml",
            "grapevine campaign list --tenant acme",
        ],
    ),
]


def _trim(text: str, limit: int = MAX_LINES) -> str:
    lines = [line.rstrip() for line in text.rstrip().splitlines()]
    if len(lines) > limit:
        keep = limit - 4
        lines = [*lines[:keep], f"... ({len(lines) - keep - 2} more lines)", *lines[-2:]]
    return "\n".join(lines)


def _run(command: str, cwd: Path, env: dict[str, str], exe: str) -> str:
    if command.startswith("$ cat "):
        return (cwd / command.removeprefix("$ cat ")).read_text(encoding="utf-8")
    argv = shlex.split(command)
    argv = [str(DATA / a[len(SHOWN_DATA) :]) if a.startswith(SHOWN_DATA) else a for a in argv]
    out = subprocess.run(
        [exe, *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    if out.returncode != 0:
        sys.exit(f"{command} failed ({out.returncode}):\n{out.stderr}")
    if command == PLAN:
        plan = subprocess.run(
            [exe, *argv[1:], "--json"], cwd=cwd, env=env, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        seeds = [str(s["seed"]) for s in json.loads(plan.stdout)["seeds"]]
        (cwd / "seeds.txt").write_text("\n".join(seeds) + "\n", encoding="utf-8")
    return out.stdout + out.stderr


def _serve(cwd: Path, env: dict[str, str], exe: str) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [exe, "serve", "--port", str(port)], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/health"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    health = response.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("grapevine serve did not answer /health within 30 s")
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
    log = log.replace(str(port), "8000")
    return (
        "```console\n$ grapevine serve\n" + _trim(log) + "\n```\n\n"
        "From another terminal:\n\n"
        f"```console\n$ curl -s http://127.0.0.1:8000/health\n{health}\n```\n"
    )


def main() -> None:
    exe = shutil.which("grapevine", path=str(Path(sys.executable).parent))
    if exe is None:
        sys.exit("the grapevine script is not installed next to this Python (pip install -e .)")
    parts = [
        "## Worked examples\n",
        "Real runs, one per group of commands, in a fresh folder with its own store "
        "(`GRAPEVINE_DATABASE_URL=sqlite:///grapevine.db`) and the shared data at "
        "`../shared/data`; long outputs are trimmed. They are made by "
        "`python scripts/cli_examples.py`.\n",
    ]
    with tempfile.TemporaryDirectory(prefix="grapevine-examples-") as tmp:
        cwd = Path(tmp)
        for name, content in FILES.items():
            (cwd / name).write_text(content, encoding="utf-8")
        env = {
            **os.environ,
            "COLUMNS": "100",
            "TERM": "dumb",
            "NO_COLOR": "1",
            "GRAPEVINE_DATABASE_URL": f"sqlite:///{cwd / 'grapevine.db'}",
            "GRAPEVINE_IP_SALT": "example-salt",
            "GRAPEVINE_WEBHOOK_SECRET": "example-webhook-secret",
            "GRAPEVINE_STRIPE_WEBHOOK_SECRET": "example-stripe-secret",
        }
        for title, what, commands in EXAMPLES:
            parts.append(f"### {title}\n\n{what}\n")
            for command in commands:
                started = time.perf_counter()
                output = _trim(_run(command, cwd, env, exe))
                print(f"{time.perf_counter() - started:6.1f} s  {command}", file=sys.stderr)
                shown = command.removeprefix("$ ")
                parts.append(f"```console\n$ {shown}\n{output}\n```\n")
        parts.append(
            "### Serve\n\nThe HTTP API (with the referral secrets set; OpenAPI at `/docs`).\n"
        )
        parts.append(_serve(cwd, env, exe))
    text = "\n".join(parts).replace(str(DATA) + "/", SHOWN_DATA).replace(f"{cwd}/", "")
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
