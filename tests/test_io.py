"""Line-oriented reading: exact 1-based line numbers, typed columns, precise BadInput."""

from __future__ import annotations

import gc
import gzip
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

from grapevine._io import iter_line_blocks, open_binary, parse_columns, read_lines
from grapevine.errors import BadInput
from support import describe, outcome

# A file with everything that must not shift the line numbers: comments, blank and
# whitespace-only lines, an indented comment, CRLF endings and no final newline.
MESSY = (
    b"# a comment\n"  # 1
    b"\n"  # 2
    b"1 2\n"  # 3
    b"   \n"  # 4
    b"3 4\r\n"  # 5
    b"  # indented comment\n"  # 6
    b"\t\n"  # 7
    b"5 6\r\n"  # 8
    b"7 8"  # 9, no newline at the end
)
MESSY_DATA_LINES = [3, 5, 8, 9]


def write(path: Path, data: bytes, *, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture(params=["plain", "gz"])
def messy_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    gz = request.param == "gz"
    return write(tmp_path / ("messy.txt.gz" if gz else "messy.txt"), MESSY, gz=gz)


# ---------------------------------------------------------------------------- line blocks
@pytest.mark.parametrize(
    ("block_lines", "expected"),
    [
        (1, [[3], [5], [8], [9]]),
        (2, [[3, 5], [8, 9]]),
        (3, [[3, 5, 8], [9]]),
        (100, [[3, 5, 8, 9]]),
    ],
)
def test_iter_line_blocks_numbers_count_every_physical_line(
    messy_file: Path, block_lines: int, expected: list[list[int]]
) -> None:
    blocks = list(iter_line_blocks(messy_file, block_lines=block_lines))
    assert [nums.tolist() for _, nums in blocks] == expected
    assert all(nums.dtype == np.int64 for _, nums in blocks)
    lines = [line for block, _ in blocks for line in block]
    assert [line.rstrip(b"\r\n") for line in lines] == [b"1 2", b"3 4", b"5 6", b"7 8"]


def test_iter_line_blocks_without_comment_marker_keeps_comment_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "c.txt", MESSY)
    ((lines, numbers),) = iter_line_blocks(path, block_lines=100, comment=None)
    assert numbers.tolist() == [1, 3, 5, 6, 8, 9]
    assert lines[0] == b"# a comment"  # lines come without their line ending


def test_iter_line_blocks_other_comment_marker(tmp_path: Path) -> None:
    path = write(tmp_path / "c.txt", b"% matrix market style\n1 2\n# not a comment here\n")
    ((lines, numbers),) = iter_line_blocks(path, block_lines=100, comment=b"%")
    assert numbers.tolist() == [2, 3]
    assert lines[1] == b"# not a comment here"


def test_read_lines_concatenates_blocks(messy_file: Path) -> None:
    lines, numbers = read_lines(messy_file)
    assert numbers.tolist() == MESSY_DATA_LINES
    assert len(lines) == 4


@pytest.mark.parametrize("content", [b"", b"# only a comment\n\n   \n"])
def test_empty_files_yield_nothing(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path / "e.txt", content)
    assert list(iter_line_blocks(path, block_lines=10)) == []
    lines, numbers = read_lines(path)
    assert lines == []
    assert numbers.dtype == np.int64
    assert numbers.size == 0


def test_gzip_is_detected_by_magic_bytes_not_by_name(tmp_path: Path) -> None:
    path = write(tmp_path / "looks_plain.txt", b"1 2\n3 4\n", gz=True)
    with warnings.catch_warnings():  # the known open_binary leak, for a name without .gz
        warnings.filterwarnings("ignore", "unclosed file", ResourceWarning)
        _, numbers = read_lines(path)
        gc.collect()
    assert numbers.tolist() == [1, 2]
    plain = write(tmp_path / "looks_gz.txt.gz", b"1 2\n")
    lines, _ = read_lines(plain)
    assert lines == [b"1 2"]


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(BadInput, match="cannot open") as info:
        read_lines(missing)
    assert info.value.file == str(missing)


def test_truncated_gzip_is_bad_input_at_the_next_line(tmp_path: Path) -> None:
    data = b"".join(b"%d %d\n" % (i, i + 1) for i in range(2000))
    path = tmp_path / "t.txt.gz"
    path.write_bytes(gzip.compress(data)[:-20])
    whole = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(path.read_bytes()).count(b"\n")
    with pytest.raises(BadInput, match="ends early") as info:
        read_lines(path)
    assert info.value.file == str(path)
    assert info.value.line == whole + 1  # where the data stops, not where a block began


def _corrupt_gzip(data: bytes) -> bytes:
    """A gzip stream whose deflate body is damaged in the middle (not truncated)."""
    packed = bytearray(gzip.compress(data))
    for i in range(20, 40):
        packed[i] ^= 0xFF
    return bytes(packed)


def test_corrupt_gzip_is_bad_input(tmp_path: Path) -> None:
    # BUG (src/grapevine/_io.py, iter_line_blocks): a damaged deflate stream raises
    # zlib.error, which is not an OSError/EOFError/BadGzipFile, so it escapes as
    # `zlib.error: Error -3 while decompressing data` instead of BadInput.
    path = tmp_path / "c.txt.gz"
    path.write_bytes(_corrupt_gzip(b"1 2 3 RT\n" * 500))
    exc = outcome(lambda: read_lines(path))
    assert isinstance(exc, BadInput), describe(exc)
    assert exc.file == str(path)
    assert "the compressed data is damaged" in exc.message
    assert exc.line == 1  # the damage is in the first block: no line came out whole


def test_open_binary_gzip_closes_the_underlying_file(tmp_path: Path) -> None:
    # BUG (src/grapevine/_io.py, open_binary): gzip.GzipFile(fileobj=raw) does not close
    # `raw` when it is closed, so every read of a .gz file leaks the file handle and
    # emits "ResourceWarning: unclosed file <_io.BufferedReader name='....gz'>"
    # (an error under filterwarnings=error). Fix: close raw too, e.g. return
    # gzip.open(path) or wrap both in a contextlib.ExitStack.
    path = write(tmp_path / "x.txt.gz", b"1 2\n", gz=True)
    gc.collect()  # leaks of earlier tests are not this test's business
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with open_binary(path) as fh:
            assert fh.read() == b"1 2\n"
        del fh
        gc.collect()
    leaks = [str(w.message) for w in seen if issubclass(w.category, ResourceWarning)]
    assert leaks == []


def test_open_binary_plain_file_is_closed(tmp_path: Path) -> None:
    path = write(tmp_path / "x.txt", b"1 2\n")
    with open_binary(path) as fh:
        assert fh.read() == b"1 2\n"
    assert fh.closed


# ---------------------------------------------------------------------------- parse_columns
COLS = {"a": "int", "b": "int", "w": "float", "name": "str"}


def parse(lines: list[bytes], numbers: list[int] | None = None, **kw):  # type: ignore[no-untyped-def]
    nums = np.asarray(numbers if numbers is not None else range(1, len(lines) + 1), np.int64)
    kw.setdefault("columns", COLS)
    return parse_columns(lines, nums, source="f.txt", **kw)


def test_parse_columns_types_and_line_column() -> None:
    frame = parse([b"1 2 0.5 alice\n", b"-3 4 1e-3 bob\r\n"], [4, 9])
    assert list(frame.columns) == ["a", "b", "w", "name", "_line"]
    assert frame["a"].tolist() == [1, -3]
    assert frame["b"].tolist() == [2, 4]
    assert frame["w"].tolist() == [0.5, 0.001]
    assert frame["name"].tolist() == ["alice", "bob"]
    assert frame["_line"].tolist() == [4, 9]
    assert frame["a"].dtype == np.int64
    assert frame["w"].dtype == np.float64


def test_parse_columns_empty_input_has_typed_columns() -> None:
    frame = parse([], [])
    assert list(frame.columns) == ["a", "b", "w", "name", "_line"]
    assert len(frame) == 0
    assert frame["a"].dtype == np.int64
    assert frame["_line"].dtype == np.int64


def test_parse_columns_other_separator_and_tabs() -> None:
    frame = parse([b"1,2,0.5,x y\n"], sep=",")
    assert frame["name"].tolist() == ["x y"]
    frame = parse([b"1\t2\t0.5\tz\n"])
    assert frame["a"].tolist() == [1]


def test_parse_columns_optional_trailing_columns() -> None:
    cols = {"u": "int", "v": "int", "t": "int"}
    frame = parse([b"1 2 30\n", b"3 4\n"], columns=cols, optional=1)
    assert frame["u"].tolist() == [1, 3]
    assert frame["t"].iloc[0] == 30
    assert np.isnan(frame["t"].iloc[1])
    with pytest.raises(BadInput, match=r"expected 2 to 3 fields \(u, v, t\), found 1") as info:
        parse([b"1 2 3\n", b"5\n"], [10, 11], columns=cols, optional=1)
    assert info.value.line == 11


@pytest.mark.parametrize(
    ("lines", "line", "field", "message"),
    [
        # too few fields
        ([b"1 2 0.5 a\n", b"1 2 0.5\n"], 2, None, "expected 4 fields (a, b, w, name), found 3"),
        ([b"1\n"], 1, None, "expected 4 fields (a, b, w, name), found 1"),
        # too many fields on one line of the block
        ([b"1 2 0.5 a\n", b"1 2 0.5 a b\n"], 2, None, "expected 4 fields (a, b, w, name), found 5"),
        # not an integer
        ([b"1 2 0.5 a\n", b"1 x 0.5 a\n"], 2, "b", "expected an integer, got 'x'"),
        ([b"1.5 2 0.5 a\n"], 1, "a", "expected an integer, got '1.5'"),
        ([b"0x1F 2 0.5 a\n"], 1, "a", "expected an integer, got '0x1F'"),
        (
            [b"99999999999999999999 2 0.5 a\n"],
            1,
            "a",
            "integer out of range: '99999999999999999999'",
        ),
        # not a (finite) number
        ([b"1 2 abc a\n"], 1, "w", "expected a number, got 'abc'"),
        ([b"1 2 nan a\n"], 1, "w", "expected a finite number, got 'nan'"),
        ([b"1 2 -inf a\n"], 1, "w", "expected a finite number, got '-inf'"),
        # bytes that are not UTF-8 (byte offsets within the line)
        ([b"1 2 0.5 a\n", b"\xff 2 0.5 a\n"], 2, None, "not valid UTF-8 (byte 0)"),
        ([b"1 2 0.5 caf\xe9\n"], 1, None, "not valid UTF-8 (byte 11)"),
    ],
)
def test_parse_columns_bad_input_names_line_and_field(
    lines: list[bytes], line: int, field: str | None, message: str
) -> None:
    numbers = [10 * (i + 1) for i in range(len(lines))]  # lines 10, 20, ...
    with pytest.raises(BadInput) as info:
        parse(lines, numbers)
    err = info.value
    assert err.message == message
    assert err.file == "f.txt"
    assert err.line == numbers[line - 1]
    assert err.field == field
    where = f"f.txt, line {numbers[line - 1]}" + (f", field {field!r}" if field else "")
    assert str(err) == f"{where}: {message}"


def test_parse_columns_first_bad_line_wins() -> None:
    lines = [b"1 2 0.5 a\n"] * 5 + [b"1 y 0.5 a\n", b"z 2 0.5 a\n"]
    with pytest.raises(BadInput) as info:
        parse(lines)
    assert (info.value.line, info.value.field) == (6, "b")


def test_parse_columns_empty_text_field() -> None:
    with pytest.raises(BadInput, match="empty value") as info:
        parse([b"1,2,0.5,\n"], [3], sep=",")
    assert (info.value.line, info.value.field) == (3, "name")


def test_parse_columns_every_line_has_an_extra_field() -> None:
    # BUG (src/grapevine/_io.py, parse_columns/_read): when EVERY line of a block has
    # one field more than the columns, pandas' read_csv silently uses the first field
    # as the index and shifts the others left: b"1 2 3" read as (a, b) gives a=2, b=3
    # instead of BadInput "expected 2 fields (a, b), found 3". Fix: pass index_col=False.
    cols = {"a": "int", "b": "int"}
    # what comes back instead is printed: a = [2, 5], b = [3, 6]
    exc = outcome(lambda: print(parse([b"1 2 3\n", b"4 5 6\n"], [1, 2], columns=cols)))
    assert isinstance(exc, BadInput), describe(exc)
    assert exc.message == "expected 2 fields (a, b), found 3"
    assert exc.line == 1


@pytest.mark.parametrize("token", [b"1_000", "\u0663".encode()], ids=["underscore", "arabic-digit"])
def test_parse_columns_error_has_a_line_for_python_only_integers(token: bytes) -> None:
    # BUG (src/grapevine/_io.py, _locate_error): pandas rejects "1_000" and non-ASCII digits
    # ("٣") but Python's int() accepts them, so _locate_error finds nothing and the
    # fallback raises BadInput("unreadable content") WITHOUT a line number or field.
    cols = {"a": "int", "b": "int"}
    with pytest.raises(BadInput) as info:
        parse([b"1 2\n", token + b" 2\n"], [5, 6], columns=cols)
    assert (info.value.line, info.value.field) == (6, "a")


# ---------------------------------------------------------------------------- whole pipeline
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_error_line_numbers_survive_comments_blank_lines_crlf_and_gzip(
    tmp_path: Path, gz: bool, newline: bytes
) -> None:
    rows = [b"# header", b"", b"1 2 0.5 a", b"   ", b"# x", b"3 4 0.25 b", b"", b"5 oops 1 c"]
    path = write(tmp_path / ("f.txt.gz" if gz else "f.txt"), newline.join(rows) + newline, gz=gz)
    seen = []

    def read_all() -> None:
        for lines, numbers in iter_line_blocks(path, block_lines=1):
            seen.append(parse_columns(lines, numbers, source=str(path), columns=COLS))

    with pytest.raises(BadInput) as info:
        read_all()
    assert [f["_line"].tolist() for f in seen] == [[3], [6]]
    assert [f["name"].tolist() for f in seen] == [["a"], ["b"]]
    assert (info.value.file, info.value.line, info.value.field) == (str(path), 8, "b")


def test_non_utf8_line_in_a_big_block_is_located(tmp_path: Path) -> None:
    body = b"".join(b"%d %d 0.5 n%d\n" % (i, i, i) for i in range(1, 3000))
    path = write(tmp_path / "u.txt", b"# c\n" + body + b"7 8 0.5 \xc3\x28\n")
    ((lines, numbers),) = iter_line_blocks(path, block_lines=10_000)
    assert len(lines) == 3000
    with pytest.raises(BadInput, match=r"not valid UTF-8 \(byte 8\)") as info:
        parse_columns(lines, numbers, source=str(path), columns=COLS)
    assert info.value.line == 3001
