"""Damaged input and killed imports: a broken .gz names the line where the data broke, and
the run of a ``grapevine import`` killed with SIGKILL is reported as interrupted, with the
store holding exactly the batches it committed."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine._io import iter_line_blocks, open_binary
from grapevine.errors import BadInput
from grapevine.store import Store, import_file
from support import describe, import_runs, outcome, table_counts

GRAPEVINE = str(Path(sys.executable).with_name("grapevine"))


def _higgs(n: int) -> bytes:
    return b"".join(b"%d %d %d RT\n" % (i, i + 1, 1_341_100_000 + i) for i in range(1, n + 1))


def _whole_lines_before_damage(data: bytes) -> int:
    """Reference: newlines zlib gives out when fed one byte at a time until it fails."""
    d, out = zlib.decompressobj(16 + zlib.MAX_WBITS), bytearray()
    for i in range(len(data)):
        try:
            out += d.decompress(data[i : i + 1])
        except zlib.error:
            break
    return out.count(b"\n")


def _damaged(data: bytes) -> bytes:
    """``data`` with one byte inverted past the middle, the first place where zlib notices
    an invalid code or distance (most damage is only caught by the checksum at the end)."""
    for at in range(len(data) // 2, len(data) - 8):
        bad = bytearray(data)
        bad[at] ^= 0xFF
        try:
            zlib.decompress(bytes(bad), 16 + zlib.MAX_WBITS)
        except zlib.error as exc:
            if "invalid" in str(exc):
                return bytes(bad)
    raise AssertionError("no damage that zlib reports as invalid data")


def test_a_truncated_gz_names_the_line_where_it_ends(store: Store, tmp_path: Path) -> None:
    whole = gzip.compress(_higgs(20_000))
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    good = _whole_lines_before_damage(path.read_bytes())
    assert 10_000 < good < 20_000
    with pytest.raises(BadInput) as info:
        import_file(store, "higgs", path, batch_size=4_000)
    assert (info.value.file, info.value.line) == (str(path), good + 1)
    assert "ends early (a truncated .gz file)" in info.value.message
    assert f"the last whole line read: line {good:,}" in info.value.message
    # Not the start of the failed batch; what is stored is whole batches, counted by the run.
    assert info.value.line % 4_000 != 1
    (run,) = import_runs(store.engine)
    assert run["status"] == "failed"
    assert table_counts(store.engine)["ties"] == run["rows_read"]
    assert run["rows_read"] % 4_000 == 0
    assert run["message"] == str(info.value)


def test_a_truncated_gz_csv_names_the_line(store: Store, tmp_path: Path) -> None:
    rows = b"source,target,kind,time\n" + b"".join(
        b"u%d,v%d,follows,%d\n" % (i, i, 1_600_000_000 + i) for i in range(3_000)
    )
    whole = gzip.compress(rows)
    path = tmp_path / "ties.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    good = _whole_lines_before_damage(path.read_bytes())
    with pytest.raises(BadInput) as info:
        import_file(store, "ties", path, batch_size=500)
    assert (info.value.file, info.value.line) == (str(path), good + 1)
    assert table_counts(store.engine)["ties"] % 500 == 0


def test_corrupt_gz_data_names_the_line_where_it_broke(tmp_path: Path) -> None:
    data = _damaged(gzip.compress(_higgs(50_000), mtime=0))
    path = tmp_path / "bad.txt.gz"
    path.write_bytes(bytes(data))
    good = _whole_lines_before_damage(bytes(data))
    assert 0 < good < 50_000
    with pytest.raises(BadInput) as info:
        for _ in iter_line_blocks(path, block_lines=10_000):
            pass
    assert info.value.line == good + 1
    assert info.value.message.startswith("the compressed data is damaged (")
    # The same through the line-by-line reader of the generic formats.
    lines: list[bytes] = []

    def read_lines() -> None:
        with open_binary(path) as fh:
            lines.extend(fh)

    with pytest.raises(BadInput) as again:
        read_lines()
    assert (again.value.line, len(lines)) == (good + 1, good)


def test_a_checksum_mismatch_is_named_as_such(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(b"a b 1 RT\n" * 10))
    data[-8] ^= 0x01  # the CRC-32 in the trailer
    path = tmp_path / "crc.txt.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(BadInput, match="does not match its checksum") as info:
        for _ in iter_line_blocks(path, block_lines=4):
            pass
    assert info.value.line == 11


def test_concatenated_members_and_padding_read_as_gzip_does(tmp_path: Path) -> None:
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(b"1 2\n3 4\n") + gzip.compress(b"5 6\n") + b"\x00" * 7)
    with open_binary(path) as fh:
        assert fh.read() == b"1 2\n3 4\n5 6\n"
    path.write_bytes(gzip.compress(b"1 2\n") + b"junk")
    with (
        pytest.raises(BadInput, match="unexpected data after the end") as info,
        open_binary(path) as fh,
    ):
        fh.read()
    assert info.value.line == 2


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=60),
    st.integers(min_value=0),
    st.integers(min_value=0, max_value=255),
)
def test_property_any_damage_is_bad_input_at_the_line_it_breaks(
    lines: list[bytes], where: int, flip: int
) -> None:
    text = b"".join(line + b"\n" for line in lines)
    packed = gzip.compress(text, mtime=0)
    for data in (packed[: where % (len(packed) + 1)], _flipped(packed, where, flip)):
        if not data.startswith(b"\x1f\x8b"):
            continue  # no longer gzip: read as plain bytes
        got: list[bytes] = []

        def read(data: bytes = data, got: list[bytes] = got) -> None:
            got.append(open_binary_bytes(data))

        exc = outcome(read)
        if exc is None:  # unharmed (a flip in the header's time or OS byte, or no change)
            assert got == [text]
            continue
        assert isinstance(exc, BadInput), describe(exc)
        if data is not packed and len(data) < len(packed):  # truncated: exact
            assert exc.line == _whole_lines_before_damage(data) + 1


def _flipped(data: bytes, where: int, flip: int) -> bytes:
    bad = bytearray(data)
    bad[where % len(bad)] ^= flip
    return bytes(bad)


def open_binary_bytes(data: bytes) -> bytes:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".gz") as tmp:
        tmp.write(data)
        tmp.flush()
        with open_binary(tmp.name) as fh:
            return fh.read()


# ============================================================================ SIGKILL
def _run_row(url: str) -> dict[str, object]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            row = (
                conn.execute(
                    sa.text(
                        "SELECT status, rows_read, pid, host, heartbeat_at FROM import_runs "
                        "ORDER BY id DESC LIMIT 1"
                    )
                )
                .mappings()
                .first()
            )
            return {} if row is None else dict(row)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_killed_import_leaves_whole_batches_and_is_reported_interrupted(
    store_url: str, tmp_path: Path
) -> None:
    Store(store_url).close()  # migrated before the importer starts
    path = tmp_path / "activity.txt"
    path.write_bytes(_higgs(200_000))
    env = {**os.environ, "GRAPEVINE_IMPORT_STALE_SECONDS": "3600"}
    command = [GRAPEVINE, "import", "higgs", str(path), "--db", store_url, "--batch-size", "2000"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:  # until a few batches are committed
            row = _run_row(store_url) if proc.poll() is None else {"status": "ended"}
            if row.get("rows_read", 0) >= 6_000 or row.get("status") == "ended":  # type: ignore[operator]
                break
            assert time.monotonic() < deadline, "the import committed nothing in 120 s"
            time.sleep(0.02)
        assert proc.poll() is None, "the import ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)  # reaped: the pid no longer exists
    assert proc.returncode == -signal.SIGKILL

    row = _run_row(store_url)
    assert row["status"] == "running"  # nobody has looked yet
    assert row["pid"] == proc.pid
    engine = sa.create_engine(store_url)
    try:
        counts = table_counts(engine)
    finally:
        engine.dispose()
    # Consistent: whole batches only, and the run row counts exactly them.
    assert counts["ties"] == row["rows_read"]
    assert counts["ties"] % 2000 == 0
    assert counts["persons"] == counts["ties"] + 1

    info = subprocess.run(
        [GRAPEVINE, "info", "--json", "--db", store_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    (run,) = json.loads(info.stdout)["imports"]
    assert run["status"] == "interrupted"
    assert f"pid {proc.pid}" in run["message"]
    assert run["rows_read"] == counts["ties"]
    assert _run_row(store_url)["status"] == "interrupted"

    # Running it again completes the file and adds nothing twice.
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert _run_row(store_url)["status"] == "done"
    engine = sa.create_engine(store_url)
    try:
        assert table_counts(engine)["ties"] == 200_000
    finally:
        engine.dispose()


def test_stale_runs_of_another_host_are_marked_by_their_heartbeat(store: Store) -> None:
    now = time.time()
    with store.engine.begin() as conn:
        for host, beat in (("elsewhere", now - 7200), ("elsewhere", now - 10), (None, None)):
            conn.execute(
                sa.text(
                    "INSERT INTO import_runs (source, format, started_at, status, rows_read, "
                    "rows_new, host, pid, heartbeat_at) VALUES ('f', 'higgs', :s, 'running', "
                    "0, 0, :h, 1, :b)"
                ),
                {"s": now - 7200, "h": host, "b": beat},
            )
    assert store.mark_interrupted_runs(stale_seconds=600, now=now) == 2
    statuses = [r["status"] for r in import_runs(store.engine)]
    assert statuses == ["interrupted", "running", "interrupted"]
    assert "no sign of life for 7,200 s" in import_runs(store.engine)[0]["message"]
    assert store.mark_interrupted_runs(stale_seconds=600, now=now) == 0
