"""Vectorised reading of line-oriented text files, with exact error locations.

The fast path hands whole blocks of lines to pandas' C parser with typed
columns. Only when that fails does the slow path look at the block again,
column by column, to name the first bad line and field. Line numbers are
1-based and count every physical line of the file (blank and comment lines
included), so they match what an editor shows.
"""

from __future__ import annotations

import gzip
import io
import re
import warnings
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from grapevine.errors import BadInput

__all__ = [
    "ColumnType",
    "check_text",
    "iter_line_blocks",
    "open_binary",
    "parse_columns",
    "read_lines",
]

ColumnType = Literal["int", "float", "str"]

_GZIP_MAGIC = b"\x1f\x8b"
_PANDAS_LINE = re.compile(r"line (\d+)")


class _GzipReader(gzip.GzipFile):
    """A GzipFile that owns its file and reports damaged data as :class:`BadInput`."""

    def __init__(self, raw: IO[bytes], source: str) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw
        self._source = source

    def _guard(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadInput(f"cannot decompress: {exc}", file=self._source) from None

    def read(self, size: int | None = -1) -> bytes:
        return self._guard(super().read, size)  # type: ignore[no-any-return]

    def read1(self, size: int = -1) -> bytes:
        return self._guard(super().read1, size)  # type: ignore[no-any-return]

    def readline(self, size: int | None = -1) -> bytes:
        return self._guard(super().readline, size)  # type: ignore[no-any-return]

    def readinto(self, b: Any) -> int:
        return self._guard(super().readinto, b)  # type: ignore[no-any-return]

    def peek(self, n: int = 0) -> bytes:
        return self._guard(super().peek, n)  # type: ignore[no-any-return]

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_binary(path: str | Path) -> IO[bytes]:
    """Open a file for reading bytes, transparently gunzipping gzip content.

    Damaged or truncated gzip data raises :class:`BadInput` naming the file.
    """
    path = Path(path)
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise BadInput(f"cannot open: {exc.strerror or exc}", file=str(path)) from exc
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        return _GzipReader(raw, str(path))  # type: ignore[return-value]
    return raw


def check_text(text: str, *, source: str, line: int | None, field: str | None) -> None:
    """Raise :class:`BadInput` for text no database can store (NUL, lone surrogates)."""
    if "\x00" in text:
        raise BadInput("contains a NUL character", file=source, line=line, field=field)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadInput(
            f"contains an unpaired surrogate (character {exc.start + 1})",
            file=source,
            line=line,
            field=field,
        ) from None


def _keep(line: bytes, comment: bytes | None) -> bool:
    s = line.strip()
    return bool(s) and not (comment is not None and s.startswith(comment))


def iter_line_blocks(
    path: str | Path, *, block_lines: int, comment: bytes | None = b"#"
) -> Iterator[tuple[list[bytes], np.ndarray]]:
    """Yield blocks of data lines and their 1-based line numbers.

    Blank lines and lines starting with ``comment`` are skipped but counted.
    """
    source = str(path)
    lineno = 0
    lines: list[bytes] = []
    numbers: list[int] = []
    with open_binary(path) as fh:
        try:
            for line in fh:
                lineno += 1
                if _keep(line, comment):
                    lines.append(line)
                    numbers.append(lineno)
                    if len(lines) >= block_lines:
                        yield lines, np.asarray(numbers, dtype=np.int64)
                        lines, numbers = [], []
        except BadInput as exc:
            raise BadInput(exc.message, file=source, line=lineno + 1) from None
        except OSError as exc:
            raise BadInput(f"cannot read: {exc}", file=source, line=lineno + 1) from exc
    if lines:
        yield lines, np.asarray(numbers, dtype=np.int64)


def read_lines(path: str | Path, *, comment: bytes | None = b"#") -> tuple[list[bytes], np.ndarray]:
    """All data lines of a file and their line numbers (see :func:`iter_line_blocks`)."""
    lines: list[bytes] = []
    numbers: list[np.ndarray] = []
    for block, nums in iter_line_blocks(path, block_lines=1 << 20, comment=comment):
        lines.extend(block)
        numbers.append(nums)
    return lines, (np.concatenate(numbers) if numbers else np.empty(0, dtype=np.int64))


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
