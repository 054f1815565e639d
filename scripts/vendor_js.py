"""Vendor the dashboard's JavaScript libraries from the npm registry into the package.

The dashboard loads nothing from the internet at run time: htmx and Apache ECharts are
served from ``src/grapevine/dashboard/static/vendor/``. This script fetches the pinned
versions below from https://registry.npmjs.org, checks each tarball against the registry's
``dist.integrity`` (sha512, Subresource Integrity format) *and* against the digest pinned
here, and extracts only the minified files and the licence texts. It then writes
``PROVENANCE.txt`` (what came from where, with the sha256 of each file) next to them.

Usage::

    python scripts/vendor_js.py          # fetch, verify, extract (overwrites the vendored files)
    python scripts/vendor_js.py --check  # verify the vendored files against PROVENANCE.txt

Only the standard library is used, so it runs before the project is installed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
DEST = Path(__file__).resolve().parent.parent / "src/grapevine/dashboard/static/vendor"


@dataclass(frozen=True)
class Package:
    """One npm package: the pinned version, its registry integrity, the files to keep."""

    name: str
    version: str
    integrity: str  # the registry's dist.integrity of this exact version
    licence: str
    files: dict[str, str]  # path inside the tarball -> file name under vendor/


PACKAGES = (
    Package(
        name="htmx.org",
        version="2.0.11",
        integrity="sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        licence="0BSD",
        files={
            "package/dist/htmx.min.js": "htmx.min.js",
            "package/LICENSE": "htmx-LICENSE.txt",
        },
    ),
    Package(
        name="echarts",
        version="6.1.0",
        integrity="sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA==",
        licence="Apache-2.0",
        files={
            "package/dist/echarts.min.js": "echarts.min.js",
            "package/LICENSE": "echarts-LICENSE.txt",
            "package/NOTICE": "echarts-NOTICE.txt",
            "package/licenses/LICENSE-d3": "echarts-LICENSE-d3.txt",
        },
    ),
)


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        data: bytes = response.read()
    return data


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def vendor(package: Package, dest: Path) -> list[str]:
    """Fetch, verify and extract ``package`` into ``dest``; the provenance lines."""
    meta = json.loads(_fetch(f"{REGISTRY}/{package.name}/{package.version}"))
    dist = meta["dist"]
    if dist["integrity"] != package.integrity:
        raise SystemExit(
            f"{package.name}@{package.version}: the registry's integrity {dist['integrity']} "
            f"differs from the pinned {package.integrity}; refusing to vendor."
        )
    tarball = _fetch(dist["tarball"])
    if _sri(tarball) != package.integrity:
        raise SystemExit(f"{package.name}@{package.version}: the tarball fails its sha512 check.")
    lines = [
        f"{package.name}@{package.version} ({package.licence}): {dist['tarball']}",
        f"  integrity {package.integrity}",
    ]
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member_name, out_name in package.files.items():
            member = archive.getmember(member_name)
            if not member.isfile():
                raise SystemExit(f"{package.name}: {member_name} is not a regular file.")
            handle = archive.extractfile(member)
            assert handle is not None
            data = handle.read()
            (dest / out_name).write_bytes(data)
            digest = hashlib.sha256(data).hexdigest()
            lines.append(f"  {out_name} <- {member_name.removeprefix('package/')} sha256 {digest}")
    return lines


def check(dest: Path) -> int:
    """Compare each vendored file with the sha256 recorded in PROVENANCE.txt; exit status."""
    provenance = dest / "PROVENANCE.txt"
    if not provenance.exists():
        print(f"{provenance}: missing; run scripts/vendor_js.py", file=sys.stderr)
        return 1
    bad = 0
    for line in provenance.read_text().splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[1] == "<-" and parts[3] == "sha256":
            path = dest / parts[0]
            actual = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"
            if actual != parts[4]:
                print(f"{path}: sha256 {actual}, expected {parts[4]}", file=sys.stderr)
                bad += 1
    print("vendored files match PROVENANCE.txt" if not bad else f"{bad} file(s) differ")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify, do not download")
    parser.add_argument("--dest", type=Path, default=DEST, help="target folder")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.dest)
    args.dest.mkdir(parents=True, exist_ok=True)
    lines = [
        "Third-party files of the dashboard, fetched from the npm registry by",
        "scripts/vendor_js.py (pinned versions, sha512 integrity checked) and copied unchanged.",
        "Served from the package so the dashboard loads no third-party script.",
        "",
    ]
    for package in PACKAGES:
        lines.extend(vendor(package, args.dest))
    (args.dest / "PROVENANCE.txt").write_text("\n".join(lines) + "\n")
    print(f"vendored {len(PACKAGES)} packages into {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
