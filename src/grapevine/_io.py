"""Vectorised reading of line-oriented text files, with exact error locations.

The fast path hands whole blocks of lines to pandas' C parser with typed
columns. Only when that fails does the slow path look at the block again,
column by column, to name the first bad line and field. Line numbers are
1-based and count every physical line of the file (blank and comment lines
included), so they match what an editor shows.
"""

from __future__ import annotations

import io
import re
import warnings
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Literal, overload

import numpy as np
import pandas as pd

from grapevine._validation import text_problem
from grapevine.errors import BadInput

__all__ = [
    "ColumnType",
    "Lines",
    "check_text",
    "iter_line_blocks",
    "open_binary",
    "parse_columns",
    "read_lines",
]

ColumnType = Literal["int", "float", "str"]

_GZIP_MAGIC = b"\x1f\x8b"
_PANDAS_LINE = re.compile(r"line (\d+)")


class _GzipStream(io.RawIOBase):
    """Gunzip a file as a stream that says where damaged data begins.

    ``gzip.GzipFile`` raises without a position, and a buffered read that fails loses the
    bytes decompressed in the same call. This stream hands out every byte that decompressed
    cleanly first and raises :class:`BadInput` only on the read after them, naming the line
    where the data broke: the number of newlines handed out so far, plus one. A truncated
    file, a corrupt block, a checksum or length mismatch and trailing garbage are told
    apart in the message. Concatenated gzip members (``cat a.gz b.gz``) and zero padding
    after the last member are read like ``gzip`` reads them.
    """

    _IN = 1 << 16  # compressed bytes fed per step
    _PROBE = 64  # on a zlib error, re-feed the failed step this many bytes at a time

    def __init__(self, raw: IO[bytes], source: str) -> None:
        super().__init__()
        self._raw = raw
        self._source = source
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._tail = b""  # compressed bytes not fed yet
        self._out = bytearray()  # decompressed bytes not handed out yet
        self._lines = 0  # newlines handed out
        self._error: str | None = None
        self._eof = False

    def readable(self) -> bool:
        return True

    def _fail(self, what: str) -> None:
        if self._error is None:
            self._error = what

    def _feed(self) -> None:
        """Decompress one more step into ``_out`` (or note the end, or the error)."""
        data = self._tail or self._raw.read(self._IN)
        self._tail = b""
        if not data:
            if not self._zlib.eof:
                try:  # output zlib still holds (a step that stopped at the output limit)
                    self._out += self._zlib.flush()
                except zlib.error as exc:
                    self._salvage(b"", exc)
            if not self._zlib.eof:
                self._fail("the compressed data ends early (a truncated .gz file)")
            self._eof = True
            return
        if self._zlib.eof:  # after a member: another member, zero padding or garbage
            data = data.lstrip(b"\x00")
            if not data:
                return
            if not data.startswith(_GZIP_MAGIC[: len(data)]):
                self._fail("unexpected data after the end of the compressed stream")
                return
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        saved = self._zlib.copy()
        try:
            self._out += self._zlib.decompress(data, 1 << 22)
        except zlib.error as exc:
            self._zlib = saved
            self._salvage(data, exc)
            return
        self._tail = self._zlib.unconsumed_tail or self._zlib.unused_data

    def _salvage(self, data: bytes, exc: zlib.error) -> None:
        """Decompress ``data`` again in small pieces, then the failing piece byte by byte,
        to keep every byte that precedes the damage."""
        for i in range(0, len(data), self._PROBE):
            saved = self._zlib.copy()
            try:
                self._out += self._zlib.decompress(data[i : i + self._PROBE])
            except zlib.error:
                self._zlib = saved
                for j in range(i, min(i + self._PROBE, len(data))):
                    try:
                        self._out += self._zlib.decompress(data[j : j + 1])
                    except zlib.error:
                        break
                break
        detail = str(exc).removeprefix("Error -3 while decompressing data: ")
        if "incorrect data check" in detail or "incorrect length check" in detail:
            self._fail(
                f"the data does not match its checksum ({detail}): the file is damaged "
                "somewhere before this point, and the lines read may be wrong"
            )
        else:
            self._fail(f"the compressed data is damaged ({detail})")

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._out and self._error is None and not self._eof:
            self._feed()
        if not self._out:
            if self._error is not None:
                last = f"line {self._lines:,}" if self._lines else "none"
                raise BadInput(
                    f"{self._error}; the last whole line read: {last}",
                    file=self._source,
                    line=self._lines + 1,
                )
            return 0
        n = min(len(view), len(self._out))
        view[:n] = self._out[:n]
        self._lines += self._out.count(b"\n", 0, n)
        del self._out[:n]
        return n

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_binary(path: str | Path) -> IO[bytes]:
    """Open a file for reading bytes, transparently gunzipping gzip content.

    Damaged or truncated gzip data raises :class:`BadInput` naming the file and the line
    where the data broke, after every line before it has been read.
    """
    path = Path(path)
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise BadInput(f"cannot open: {exc.strerror or exc}", file=str(path)) from exc
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        return io.BufferedReader(_GzipStream(raw, str(path)), buffer_size=1 << 16)
    return raw


def check_text(text: str, *, source: str, line: int | None, field: str | None) -> None:
    """Raise :class:`BadInput` for text no database can store (NUL, lone surrogates; the rule
    is :func:`grapevine._validation.text_problem`)."""
    problem = text_problem(text)
    if problem is not None:
        raise BadInput(problem, file=source, line=line, field=field)


class Lines(Sequence[bytes]):
    """Data lines held as one ``b"\\n"``-joined buffer, split only when indexed or iterated.

    Elements are the lines without their line ending (``\\n`` or ``\\r\\n``).

    Parsing hands ``data`` to pandas as it is, so a block of a million lines
    never becomes a million Python objects unless something asks for them.
    """

    __slots__ = ("_list", "_n", "data")

    def __init__(self, data: bytes, count: int) -> None:
        self.data = data
        self._n = count
        self._list: list[bytes] | None = None

    def _split(self) -> list[bytes]:
        if self._list is None:
            self._list = self.data.split(b"\n") if self._n else []
        return self._list

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._split())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Lines):
            return self.data == other.data and self._n == other._n
        if isinstance(other, list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Lines: {self._n} lines>"

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Lines: ...
    def __getitem__(self, index: int | slice) -> bytes | Lines:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._n)
            if start >= stop:
                return Lines(b"", 0)
            if step == 1 and stop == self._n and self._list is None:  # drop a header cheaply
                pos = 0
                for _ in range(start):
                    pos = self.data.index(b"\n", pos) + 1
                return Lines(self.data[pos:], stop - start)
            part = self._split()[index]
            return Lines(b"\n".join(part), len(part))
        if self._list is None and index == 0 and self._n:
            end = self.data.find(b"\n")
            return self.data if end < 0 else self.data[:end]
        return self._split()[index]


_NOT_PLAIN = re.compile(rb"(?:^|\n)[ \t\r\f\v]*(?:\n|\Z)")  # blank lines


def _block(chunk: bytes, first: int, comment: bytes | None) -> tuple[Lines, np.ndarray, int]:
    """The data lines of ``chunk`` (which starts at line ``first + 1``) and their numbers."""
    count = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") or not chunk else 1)
    data = chunk[:-1] if chunk.endswith(b"\n") else chunk
    plain = (comment is None or comment not in chunk) and not _NOT_PLAIN.search(data)
    if plain:  # every line is a data line: no Python loop over lines
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").removesuffix(b"\r")
        numbers = np.arange(first + 1, first + 1 + count, dtype=np.int64)
        return Lines(data, count), numbers, count
    raw = chunk.split(b"\n")
    if chunk.endswith(b"\n"):
        raw.pop()
    kept: list[bytes] = []
    nums: list[int] = []
    for i, line in enumerate(raw):
        s = line.strip()
        if s and not (comment is not None and s.startswith(comment)):
            kept.append(line.rstrip(b"\r"))
            nums.append(first + 1 + i)
    return Lines(b"\n".join(kept), len(kept)), np.asarray(nums, dtype=np.int64), count


def iter_line_blocks(
    path: str | Path, *, block_lines: int, comment: bytes | None = b"#"
) -> Iterator[tuple[Lines, np.ndarray]]:
    """Yield blocks of at most ``block_lines`` data lines and their 1-based line numbers.

    Blank lines and lines starting with ``comment`` are skipped but counted.
    The file is read in large chunks cut at line ends; a chunk with no comment
    or blank line goes to the parser as one buffer.
    """
    source = str(path)
    lineno = 0
    pending = b""
    eof = False
    held: list[tuple[Lines, np.ndarray]] = []
    held_n = 0
    with open_binary(path) as fh:
        while not eof or pending:
            try:
                while not eof and pending.count(b"\n") < block_lines:
                    more = fh.read(_READ_BYTES)
                    eof = not more
                    pending += more
            except BadInput as exc:  # damaged gzip data: the stream knows the line
                raise BadInput(exc.message, file=source, line=exc.line) from None
            except OSError as exc:
                raise BadInput(f"cannot read: {exc}", file=source, line=lineno + 1) from exc
            newlines = np.flatnonzero(np.frombuffer(pending, dtype=np.uint8) == 10)
            while len(newlines) >= block_lines or (eof and pending):
                if len(newlines) >= block_lines:
                    cut = int(newlines[block_lines - 1]) + 1
                    newlines = newlines[block_lines:] - cut
                else:
                    cut, newlines = len(pending), newlines[:0]
                chunk, pending = pending[:cut], pending[cut:]
                lines, numbers, count = _block(chunk, lineno, comment)
                lineno += count
                if len(lines):
                    held.append((lines, numbers))
                    held_n += len(lines)
                while held_n >= block_lines:
                    out, held = _take(held, block_lines)
                    held_n -= block_lines
                    yield out
    if held:
        yield _take(held, held_n)[0]


def _take(
    held: list[tuple[Lines, np.ndarray]], k: int
) -> tuple[tuple[Lines, np.ndarray], list[tuple[Lines, np.ndarray]]]:
    """The first ``k`` data lines of the held blocks, and what is left."""
    data = b"\n".join(lines.data for lines, _ in held)
    numbers = np.concatenate([n for _, n in held])
    total = len(numbers)
    if k >= total:
        return (Lines(data, total), numbers), []
    cut = int(np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)[k - 1])
    rest = (Lines(data[cut + 1 :], total - k), numbers[k:])
    return (Lines(data[:cut], k), numbers[:k]), [rest]


_READ_BYTES = 1 << 22


def read_lines(path: str | Path, *, comment: bytes | None = b"#") -> tuple[Lines, np.ndarray]:
    """All data lines of a file and their line numbers (see :func:`iter_line_blocks`)."""
    datas: list[bytes] = []
    numbers: list[np.ndarray] = []
    for block, nums in iter_line_blocks(path, block_lines=1 << 20, comment=comment):
        datas.append(block.data)
        numbers.append(nums)
    total = sum(len(n) for n in numbers)
    merged = np.concatenate(numbers) if numbers else np.empty(0, dtype=np.int64)
    return Lines(b"\n".join(datas), total), merged


_PANDAS_DTYPE = {"int": "int64", "float": "float64", "str": "object"}
_WHAT = {"int": "an integer", "float": "a number", "str": "text"}


def parse_columns(
    lines: Sequence[bytes],
    numbers: np.ndarray,
    *,
    source: str,
    columns: dict[str, ColumnType],
    sep: str = r"\s+",
    optional: int = 0,
) -> pd.DataFrame:
    """Parse delimited lines into typed columns, or raise :class:`BadInput`.

    Parameters
    ----------
    lines, numbers : the data lines and their 1-based line numbers.
    source : the file name used in error messages.
    columns : column name to type, in file order.
    sep : the field separator (a regex; whitespace by default).
    optional : how many trailing columns may be missing (they become NaN / None).

    Returns
    -------
    DataFrame with one row per line and an extra ``_line`` column.
    """
    names = list(columns)
    if not lines:
        frame = pd.DataFrame({n: pd.Series(dtype=_PANDAS_DTYPE[t]) for n, t in columns.items()})
        frame["_line"] = np.empty(0, dtype=np.int64)
        return frame
    if isinstance(lines, Lines):
        data = lines.data
    else:
        data = b"\n".join(line.rstrip(b"\r\n") for line in lines)
    dtypes = {n: _PANDAS_DTYPE[t] for n, t in columns.items()}
    if optional:
        for n in names[len(names) - optional :]:
            if columns[n] == "int":
                dtypes[n] = "float64"  # missing values become NaN
    try:
        frame = _read(data, names, dtypes, sep)
        if len(frame) != len(lines):
            raise ValueError("row count mismatch")
        required = names[: len(names) - optional]
        if frame[required].isna().to_numpy().any():
            raise ValueError("missing fields")
        for n, t in columns.items():
            if t == "float" and not np.isfinite(frame[n].dropna().to_numpy()).all():
                raise ValueError("non-finite number")
            if t == "str" and frame[n].dropna().str.contains("\x00", regex=False).any():
                raise ValueError("NUL character")
    except Exception:  # any parser complaint: find the first bad line exactly
        _locate_error(lines, numbers, source=source, columns=columns, sep=sep, optional=optional)
        raise BadInput("unreadable content", file=source) from None  # pragma: no cover
    frame["_line"] = numbers
    return frame


def _read(data: bytes, names: list[str], dtypes: dict[str, str], sep: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        # extra fields make pandas warn and drop data: take that as a parse failure
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return _read_csv(data, names, dtypes, sep)


def _read_csv(data: bytes, names: list[str], dtypes: dict[str, str], sep: str) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(data),
        index_col=False,
        sep=sep,
        header=None,
        names=names,
        dtype=dtypes,
        skip_blank_lines=False,
        keep_default_na=False,
        na_values=[""],
        quoting=3,  # csv.QUOTE_NONE: these formats have no quoting
        engine="c",
        encoding="utf-8",
        encoding_errors="strict",
    )


def _split(line: str, sep: str) -> list[str]:
    if sep == r"\s+":
        return line.split()
    return re.split(sep, line) if len(sep) > 1 else line.split(sep)


def _locate_error(
    lines: Sequence[bytes],
    numbers: np.ndarray,
    *,
    source: str,
    columns: dict[str, ColumnType],
    sep: str,
    optional: int,
) -> None:
    names = list(columns)
    need = len(names) - optional
    for raw, lineno in zip(lines, numbers.tolist(), strict=True):
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise BadInput(
                f"not valid UTF-8 (byte {exc.start})", file=source, line=lineno
            ) from None
        fields = _split(text, sep)
        if len(fields) < need or len(fields) > len(names):
            raise BadInput(
                f"expected {need if not optional else f'{need} to {len(names)}'} fields "
                f"({', '.join(names)}), found {len(fields)}",
                file=source,
                line=lineno,
            )
        for name, value in zip(names, fields, strict=False):
            kind = columns[name]
            if kind == "str":
                if not value:
                    raise BadInput("empty value", file=source, line=lineno, field=name)
                check_text(value, source=source, line=lineno, field=name)
                continue
            try:
                if not value.isascii() or "_" in value:  # Python accepts these, pandas does not
                    raise ValueError(value)
                number = int(value) if kind == "int" else float(value)
            except ValueError:
                raise BadInput(
                    f"expected {_WHAT[kind]}, got {value[:40]!r}",
                    file=source,
                    line=lineno,
                    field=name,
                ) from None
            if kind == "int" and not -(2**63) <= number < 2**63:
                raise BadInput(
                    f"integer out of range: {value[:40]!r}", file=source, line=lineno, field=name
                )
            if kind == "float" and not np.isfinite(number):
                raise BadInput(
                    f"expected a finite number, got {value[:40]!r}",
                    file=source,
                    line=lineno,
                    field=name,
                )
