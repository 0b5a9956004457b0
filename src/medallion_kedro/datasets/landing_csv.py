"""``LandingCSVDataset``: a source export in the lake's landing zone, read as text."""

from __future__ import annotations

import io
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
import polars as pl
from kedro.io.core import AbstractDataset, DatasetError, get_protocol_and_path
from kedro_datasets._typing import TablePreview

from medallion_kedro.datasets._files import replace_whole
from medallion_kedro.datasets._preview import table_preview

_SNIFF_BYTES = 64 * 1024


class LandingCSVDataset(AbstractDataset[pl.DataFrame, pl.DataFrame]):
    """A CSV file (one header row, UTF-8) in the landing zone, loaded with every column as text.

    Bronze keeps every source value as it came, so nothing is typed on load; a missing,
    empty, header-only or non-CSV file is refused with a message that names the file and
    says what to do. Saving (the generator) writes a local file whole, then renames it into
    place, so readers never see half a file; on S3 the upload itself is whole.

    Example catalog entry::

        "landing.{table}":
          type: medallion_kedro.datasets.LandingCSVDataset
          filepath: data/lake/landing/{table}.csv
          credentials: minio        # only for s3:// paths

    Example::

        >>> import polars as pl, tempfile
        >>> ds = LandingCSVDataset(filepath=tempfile.mkdtemp() + "/t.csv")
        >>> ds.save(pl.DataFrame({"a": [1, 2]}))
        >>> ds.load()["a"].to_list()
        ['1', '2']
    """

    def __init__(
        self,
        *,
        filepath: str,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath)
        self._protocol = protocol
        self._filepath = PurePosixPath(path)
        self._fs = fsspec.filesystem(protocol, **{**(credentials or {}), **(fs_args or {})})
        self.metadata = metadata

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
            raise DatasetError(
                f"Landing file {self._location} does not exist: run "
                "`kedro run --pipelines generate` or copy your export there."
            ) from exc
        except OSError as exc:
            raise DatasetError(f"Cannot read landing file {self._location}: {exc}") from exc

    def _check_text(self, head: bytes) -> None:
        if not head.strip():
            raise DatasetError(
                f"Landing file {self._location} is empty: re-export it with a header row "
                "and at least one data row."
            )
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut by the sniff window
                raise DatasetError(
                    f"Landing file {self._location} is not a UTF-8 CSV file "
                    f"(undecodable byte at offset {exc.start}): export it as CSV, UTF-8."
                ) from exc
        if b"\x00" in head:
            raise DatasetError(
                f"Landing file {self._location} is binary, not a CSV file: export it as "
                "CSV, UTF-8, one header row."
            )

    def load(self) -> pl.DataFrame:
        self._check_text(self._read_bytes(_SNIFF_BYTES))
        # local files are memory-mapped by polars; remote ones are read once into memory
        source: Any = (
            str(self._filepath) if self._protocol == "file" else io.BytesIO(self._read_bytes())
        )
        try:
            df = pl.read_csv(source, infer_schema=False, raise_if_empty=True)
        except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
            raise DatasetError(
                f"Landing file {self._location} is not a readable CSV file ({exc}): check "
                "the separator is a comma, the file is UTF-8 and has one header row."
            ) from exc
        if df.height == 0:
            raise DatasetError(
                f"Landing file {self._location} has a header but no data rows: nothing to "
                "ingest. Check the export, or remove the file."
            )
        return df

    def save(self, data: pl.DataFrame) -> None:
        try:
            if self._protocol == "file":
                replace_whole(Path(self._filepath), data.write_csv)
            else:
                with self._fs.open(str(self._filepath), "wb") as f:
                    data.write_csv(f)
        except OSError as exc:
            raise DatasetError(
                f"Cannot write landing file {self._location}: {exc}. Check the lake path "
                "is writable (conf/*/globals.yml `lake`) and, on S3, the bucket exists."
            ) from exc

    def preview(self, nrows: int = 10) -> TablePreview:
        """First rows as a table for Kedro-Viz."""
        return table_preview(self.load().head(nrows))
