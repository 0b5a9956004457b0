"""``LandingCSVDataset``: a source export in the lake's landing zone, read as text."""

from __future__ import annotations

import csv
import io
import re
from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
import polars as pl
from kedro.io.core import AbstractDataset, DatasetError, get_protocol_and_path
from kedro_datasets._typing import TablePreview

from medallion_kedro.datasets._csv_text import MALFORMED, _chunked_like, excerpt
from medallion_kedro.datasets._preview import table_preview
from medallion_kedro.lake.files import replace_whole, upload_whole
from medallion_kedro.public_errors import publishable

_SNIFF_BYTES = 64 * 1024
_BLOCK_BYTES = 4 * 1024 * 1024
_QUOTED = r'"[^"]*"'


def _unterminated_quote(data: bytes) -> tuple[int, str] | None:
    """Line number and text of the line whose opening quote is never closed, if any."""
    inside, opened_at, opened_text = False, 0, b""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.count(b'"') % 2:
            if not inside:
                opened_at, opened_text = number, line
            inside = not inside
    if not inside:
        return None
    return opened_at, opened_text.decode("utf-8", errors="replace")


def _rewound(source: Any) -> Any:
    """``source`` ready to be read from its start (a path, or an in-memory file)."""
    if isinstance(source, io.BytesIO):
        source.seek(0)
    return source


def _has_quote(source: Any) -> bool:
    """True when the file (a path, or an in-memory file) holds a double quote anywhere.

    Read in blocks, not memory-mapped, so its pages never count in the process's memory.
    """
    if isinstance(source, io.BytesIO):
        with source.getbuffer() as view:  # searched in place, not copied
            return re.search(b'"', view) is not None
    with open(source, "rb") as file:
        return any(b'"' in block for block in iter(lambda: file.read(_BLOCK_BYTES), b""))


def _lines(source: Any) -> pl.LazyFrame:
    """The lines of ``source`` (a path or an in-memory file) as a ``line`` column."""
    if isinstance(source, str):
        return pl.scan_lines(source)
    return pl.read_lines(_rewound(source)).lazy()


class LandingCSVDataset(AbstractDataset[pl.DataFrame, pl.DataFrame]):
    """A CSV file (one header row, UTF-8) in the landing zone, loaded with every column as text.

    The arguments of kedro-datasets' ``polars.CSVDataset`` (``load_args`` such as
    ``separator``, ``save_args``, ``credentials``, ``fs_args``; no versioning), on a file
    reached through fsspec, with the checks and writes below. It does not extend that
    class: its package imports ``pyarrow.dataset`` and with it pandas, which reading and
    writing CSV with polars never needs.

    Bronze keeps every source value as it came, so nothing is typed on load; a missing,
    empty, header-only or non-CSV file is refused with a message that names the file and
    says what to do, quoting at most ``EXCERPT_CHARS`` characters of it (an unterminated
    quote is reported with its line number). A row with too few or too many fields is kept
    (missing fields null, extra fields dropped) and flagged in the Boolean column
    ``_malformed``, so silver can quarantine it as malformed instead of guessing. Saving
    (the generator) writes a local file whole, then renames it into place, so readers
    never see half a file; on S3 an upload that fails part-way is aborted.

    Example catalog entry::

        "landing.{table}":
          type: medallion_kedro.datasets.LandingCSVDataset
          filepath: data/lake/landing/{table}.csv
          credentials: lake         # storage options; empty for a local folder

    Example::

        >>> import polars as pl, tempfile
        >>> ds = LandingCSVDataset(filepath=tempfile.mkdtemp() + "/t.csv")
        >>> ds.save(pl.DataFrame({"a": [1, 2]}))
        >>> ds.load()["a"].to_list()
        ['1', '2']
    """

    DEFAULT_LOAD_ARGS: dict[str, Any] = {}
    DEFAULT_SAVE_ARGS: dict[str, Any] = {}

    def __init__(  # noqa: PLR0913
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        options = {**deepcopy(credentials or {}), **deepcopy(fs_args or {})}
        self._protocol, path = get_protocol_and_path(filepath)
        if self._protocol == "file":
            options.setdefault("auto_mkdir", True)
        self._fs = fsspec.filesystem(self._protocol, **options)
        self._filepath = PurePosixPath(path)
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self._save_args = {**self.DEFAULT_SAVE_ARGS, **(save_args or {})}
        self.metadata = metadata
        self._separator = str(self._load_args.get("separator", ","))

    @property
    def _location(self) -> str:
        return (
            f"{self._protocol}://{self._filepath}"
            if self._protocol != "file"
            else str(self._filepath)
        )

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._location, "protocol": self._protocol}

    def _exists(self) -> bool:
        return bool(self._fs.exists(str(self._filepath)))

    def _read_bytes(self, size: int = -1) -> bytes:
        try:
            with self._fs.open(str(self._filepath), "rb") as f:
                return bytes(f.read(size))
        except FileNotFoundError as exc:
            raise publishable(
                DatasetError(
                    f"Landing file {self._location} does not exist: run "
                    "`kedro run --pipelines generate` or copy your export there."
                )
            ) from exc
        except OSError as exc:
            raise publishable(
                DatasetError(f"Cannot read landing file {self._location}: {exc}")
            ) from exc

    def _check_text(self, head: bytes) -> None:
        if not head.strip():
            raise publishable(
                DatasetError(
                    f"Landing file {self._location} is empty: re-export it with a header row "
                    "and at least one data row."
                )
            )
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut by the sniff window
                raise publishable(
                    DatasetError(
                        f"Landing file {self._location} is not a UTF-8 CSV file "
                        f"(undecodable byte at offset {exc.start}): export it as CSV, UTF-8."
                    )
                ) from exc
        if b"\x00" in head:
            raise publishable(
                DatasetError(
                    f"Landing file {self._location} is binary, not a CSV file: export it as "
                    "CSV, UTF-8, one header row."
                )
            )

    def load(self) -> pl.DataFrame:
        head = self._read_bytes(_SNIFF_BYTES)
        self._check_text(head)
        # local files are memory-mapped by polars; remote ones are read once into memory
        source: Any = (
            str(self._filepath) if self._protocol == "file" else io.BytesIO(self._read_bytes())
        )
        if b"\r" in head and b"\n" not in head:
            # lines ended by CR alone (old Mac exports): polars ends lines at LF only
            source = io.BytesIO(self._read_bytes().replace(b"\r", b"\n"))
        # A strict parse refuses a row with too many fields. When it passes, only rows
        # whose last field is null can have too few, so a clean file is read just once.
        df, separators = self._parse(source, ragged=False), None
        if df is None:
            # Counted before the lenient parse: the pages this pass maps are released
            # before the parse maps the file again, so they never add to the frame's memory.
            separators = self._separators(source)
            df = self._parse(source, ragged=True)
        assert df is not None  # a lenient parse returns a frame or raises
        if df.height == 0:
            raise publishable(
                DatasetError(
                    f"Landing file {self._location} has a header but no data rows: nothing to "
                    "ingest. Check the export, or remove the file."
                )
            )
        if separators is None and not df.get_column(df.columns[-1]).has_nulls():
            malformed = pl.repeat(False, df.height, dtype=pl.Boolean, eager=True)
        else:
            if separators is None:
                separators = self._separators(source)
            malformed = self._malformed(separators, source, df.width, df.height)
        return df.with_columns(_chunked_like(malformed.alias(MALFORMED), df.to_series(0)))

    def _parse(self, source: Any, *, ragged: bool) -> pl.DataFrame | None:
        """The file with every column as text; a row with too many fields is cut to the
        header's width (``ragged``) or makes a strict parse return None."""
        try:
            return pl.read_csv(
                _rewound(source),
                **{
                    **self._load_args,
                    "infer_schema": False,
                    "raise_if_empty": True,
                    "truncate_ragged_lines": ragged,
                },
            )
        except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
            if not ragged:
                return None  # too many fields, or unreadable: the lenient parse tells which
            raise self._unreadable(exc) from exc

    def _unreadable(self, exc: Exception) -> DatasetError:
        """The error of a file polars cannot parse. Its message quotes the file (the line of
        an unterminated quote, or polars' own words); its public form names the file, the
        line and the rule only (:mod:`medallion_kedro.public_errors`)."""
        quote = _unterminated_quote(self._read_bytes())
        if quote is not None:
            line, text = quote
            return publishable(
                DatasetError(
                    f"Landing file {self._location} has an unterminated quote: the quoted "
                    f"field opened on line {line} is never closed ({excerpt(text)!r}). Close "
                    "or remove the stray '\"' in the export, then run again."
                ),
                f"Landing file {self._location}, line {line}: a quoted field is never closed "
                "(rule: every quote closed). Close or remove the stray '\"' in the export, "
                "then run again.",
            )
        return publishable(
            DatasetError(
                f"Landing file {self._location} is not a readable CSV file "
                f"({excerpt(str(exc))}): check the separator is a comma, the file is UTF-8 "
                "and has one header row."
            ),
            f"Landing file {self._location} is not a readable CSV file (rule: comma-separated "
            "UTF-8 text with one header row): check the separator, the encoding and the header.",
        )

    def _separators(self, source: Any) -> pl.Series | None:
        """The number of separators on each line of the file (blank lines included: the
        parse keeps them as rows of nulls).

        One streaming pass that keeps 4 bytes a line; None when the file cannot be read as
        lines (the parse then says why).
        """
        line = pl.col("line")
        try:
            counts = (
                _lines(source)
                .select(line.str.count_matches(self._separator, literal=True))
                .collect(engine="streaming")
            )
        except (pl.exceptions.PolarsError, UnicodeDecodeError):
            return None
        return counts.to_series()

    def _malformed(
        self, separators: pl.Series | None, source: Any, width: int, height: int
    ) -> pl.Series:
        """True for each data row whose field count differs from the header's.

        A line without a quote has one field more than it has separators; in a file with
        quotes, the lines holding one are counted again with their quoted segments removed.
        A file with line breaks inside quoted values (its lines are not its rows) is
        counted with Python's ``csv`` module instead.
        """
        if separators is None or separators.len() != height + 1:
            return self._malformed_by_csv(width, height)
        malformed = separators.slice(1) != width - 1
        if _has_quote(source):
            exact = self._quoted_fields(source)
            malformed = malformed.scatter(
                exact.get_column("row"), exact.get_column("fields") != width
            )
        return malformed.alias(MALFORMED)

    def _quoted_fields(self, source: Any) -> pl.DataFrame:
        """Data row number and field count (quoted segments removed, then separators
        counted) of each line that holds a quote."""
        line = pl.col("line")
        fields = line.str.replace_all(_QUOTED, "").str.count_matches(self._separator, literal=True)
        return (
            _lines(source)
            .with_row_index("row")
            .filter(line.str.contains('"', literal=True) & (pl.col("row") > 0))
            .select(pl.col("row") - 1, (fields + 1).alias("fields"))
            .collect(engine="streaming")
        )

    def _malformed_by_csv(self, width: int, height: int) -> pl.Series:
        text = self._read_bytes().decode("utf-8")
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=self._separator)
        counts = pl.Series([len(row) for row in rows][1:], dtype=pl.UInt32)
        if counts.len() != height:
            raise publishable(
                DatasetError(
                    f"Landing file {self._location} has {height} rows for polars but "
                    f"{counts.len()} for Python's csv module, so its malformed rows cannot be "
                    "told apart: check the quoting of the export (every quote closed, quotes "
                    "inside values doubled)."
                )
            )
        return (counts != width).alias(MALFORMED)

    def save(self, data: pl.DataFrame) -> None:
        try:
            if self._protocol == "file":
                replace_whole(Path(self._filepath), lambda f: data.write_csv(f, **self._save_args))
            else:
                upload_whole(
                    self._fs, str(self._filepath), lambda f: data.write_csv(f, **self._save_args)
                )
        except OSError as exc:
            raise DatasetError(
                f"Cannot write landing file {self._location}: {exc}. Check the lake path "
                "is writable (conf/*/globals.yml `lake`) and, on S3, the bucket exists."
            ) from exc

    def preview(self, nrows: int = 10) -> TablePreview:
        """First rows as a table for Kedro-Viz."""
        return table_preview(self.load().head(nrows))
