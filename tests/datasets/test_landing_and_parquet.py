from __future__ import annotations

import errno
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import s3fs
from kedro.io.core import DatasetError

from medallion_kedro.datasets import LandingCSVDataset
from medallion_kedro.lake.files import replace_whole, upload_whole
from tests.servers import S3Server


def test_landing_round_trip_is_text_and_preview(tmp_path: Path) -> None:
    ds = LandingCSVDataset(filepath=str(tmp_path / "landing" / "t.csv"))
    assert not ds.exists()
    ds.save(pl.DataFrame({"id": [1, 2, 3], "amount": [1.5, None, 3.0]}))
    assert ds.exists()
    loaded = ds.load()
    assert loaded.schema == pl.Schema(
        {"id": pl.String, "amount": pl.String, "_malformed": pl.Boolean}
    )
    assert loaded.rows() == [("1", "1.5", False), ("2", None, False), ("3", "3.0", False)]
    assert ds.preview(2) == {
        "columns": ["id", "amount", "_malformed"],
        "index": [0, 1],
        "data": [["1", "1.5", False], ["2", None, False]],
    }
    assert not list((tmp_path / "landing").glob(".*tmp"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b"a,b\n", "header but no data rows"),
        (b"PAR1\x00\x01\x02binary", "binary, not a CSV"),
        (b"a,b\n\xff\xfe\xfa,1\n", "not a UTF-8 CSV"),
    ],
)
def test_landing_refuses_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message) as info:
        LandingCSVDataset(filepath=str(path)).load()
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "content",
    [
        b'a,b,c\n1,,x\n2\n3,4,5,6\n7,"p,q",r\n8,"",\n',
        # a line break inside a quoted value: counted by the csv module instead
        b'a,b,c\n1,,x\n2\n3,4,5,6\n7,"p\nq",r\n8,"",\n',
    ],
)
def test_landing_flags_rows_with_too_few_or_too_many_fields(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(content)
    loaded = LandingCSVDataset(filepath=str(path)).load()
    assert loaded.get_column("_malformed").to_list() == [False, True, True, False, False]
    assert loaded.get_column("a").to_list() == ["1", "2", "3", "7", "8"]


@pytest.mark.parametrize(
    "content",
    [b"a,b\n1,x\n\n2,y\n\n", b"a,b\r\n1,x\r\n\r\n2,y\r\n\r\n"],
)
def test_landing_flags_blank_lines_as_rows_without_fields(tmp_path: Path, content: bytes) -> None:
    """The parse keeps a blank line as a row of nulls: it is flagged, never misaligned."""
    path = tmp_path / "blank.csv"
    path.write_bytes(content)
    loaded = LandingCSVDataset(filepath=str(path)).load()
    assert loaded.rows() == [
        ("1", "x", False),
        (None, None, True),
        ("2", "y", False),
        (None, None, True),
    ]


def test_landing_counts_quoted_separators_only_on_lines_with_quotes(tmp_path: Path) -> None:
    """A quoted separator is not a field boundary; an unquoted line is counted as it is."""
    path = tmp_path / "quoted.csv"
    path.write_bytes(b'a,b,c\n1,"p,q,r"\n2,"s",t\n3,u,v,w\n"4,5",x,y\n')
    loaded = LandingCSVDataset(filepath=str(path)).load()
    assert loaded.get_column("_malformed").to_list() == [True, False, True, False]


def test_landing_flag_comes_in_the_same_chunks_as_the_parsed_columns(tmp_path: Path) -> None:
    """Otherwise the next select or drop copies every text to align the chunks."""
    path = tmp_path / "chunks.csv"
    path.write_text("a,b\n" + "".join(f"{i},x{i}\n" for i in range(50_000)) + "1\n")
    loaded = LandingCSVDataset(filepath=str(path)).load()
    chunks = loaded.get_column("a").chunk_lengths()
    assert len(chunks) > 1  # the parse did cut the file, so alignment is being tested
    assert loaded.get_column("_malformed").chunk_lengths() == chunks
    assert loaded.get_column("_malformed").arg_true().to_list() == [50_000]
    assert loaded.drop("_malformed").n_chunks("all") == [len(chunks)] * 2


def test_landing_reads_a_well_formed_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No row too long (a strict parse passes) and no null last field: no line count."""

    def no_second_pass(*args: object) -> None:
        raise AssertionError("a well-formed file was read a second time")

    path = tmp_path / "clean.csv"
    path.write_bytes(b'a,b,c\n1,,x\n2,"p,q",y\n')
    monkeypatch.setattr(LandingCSVDataset, "_separators", no_second_pass)
    loaded = LandingCSVDataset(filepath=str(path)).load()
    assert loaded.rows() == [("1", None, "x", False), ("2", "p,q", "y", False)]
    path.write_bytes(b"a,b,c\n1,,x\n2,y\n")  # a null last field: too few, or empty?
    with pytest.raises(DatasetError, match="read a second time"):
        LandingCSVDataset(filepath=str(path)).load()


@pytest.mark.parametrize(
    ("content", "flags"),
    [
        (b"a,b,c\n1,2,\n3,4\n5,6,7\n", [False, True, False]),  # empty vs missing last field
        (b"a,b,c\n1,2,3\n4,5,6,\n7,8,9\n", [False, True, False]),  # one separator too many
    ],
)
def test_landing_tells_an_empty_last_field_from_a_missing_one(
    tmp_path: Path, content: bytes, flags: list[bool]
) -> None:
    path = tmp_path / "last.csv"
    path.write_bytes(content)
    assert LandingCSVDataset(filepath=str(path)).load()["_malformed"].to_list() == flags


def test_landing_unterminated_quote_names_line_and_quotes_little(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    rows = [f"{i},{'e' * 60}@example.com" for i in range(50_000)]
    path.write_text('id,email\n1,ok@x.org\n2,"broken@x.org\n' + "\n".join(rows) + "\n")
    with pytest.raises(DatasetError, match=r"unterminated quote: .* opened on line 3 ") as info:
        LandingCSVDataset(filepath=str(path)).load()
    assert len(str(info.value)) < 600


def test_landing_other_parse_errors_quote_a_short_excerpt() -> None:
    from medallion_kedro.datasets.landing_csv import excerpt

    text = "x" * 5000
    assert len(excerpt(text)) < 240 and excerpt(text).startswith("x" * 200)
    assert excerpt("a\nb") == "a\\nb"


def test_replace_whole_leaves_the_target_as_it_was_when_a_write_fails(tmp_path: Path) -> None:
    """A write that dies half-way (here: a full disk) never touches the published file."""
    target = tmp_path / "_lake.json"
    target.write_text('{"tables": {}}')

    def half_then_full(path: Path) -> None:
        with path.open("w") as f:
            f.write('{"tab')
            f.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        replace_whole(target, half_then_full)
    assert target.read_text() == '{"tables": {}}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_lake.json"]


def test_failed_upload_to_s3_leaves_the_object_as_it_was(s3: S3Server) -> None:
    """A write that dies after sending a multipart part leaves no object and no upload."""
    fs = s3fs.S3FileSystem(**s3.credentials(), skip_instance_cache=True)
    bucket = f"up-{uuid.uuid4().hex[:8]}"
    fs.mkdir(bucket)
    landing = LandingCSVDataset(
        filepath=f"s3://{bucket}/landing/t.csv", credentials=s3.credentials()
    )
    landing.save(pl.DataFrame({"a": [1, 2]}))

    def six_mb_then_fail(f: Any) -> None:
        f.write(b"a\n" + b"9\n" * 3 * 2**20)  # beyond one 5 MB part: an upload is under way
        raise OSError(errno.EIO, "connection lost")

    with pytest.raises(OSError, match="connection lost"):
        upload_whole(fs, f"{bucket}/landing/t.csv", six_mb_then_fail)
    assert landing.load()["a"].to_list() == ["1", "2"]
    uploads = fs.call_s3("list_multipart_uploads", Bucket=bucket).get("Uploads", [])
    assert uploads == []


def test_landing_takes_kedro_datasets_csv_arguments(tmp_path: Path) -> None:
    """``load_args``/``save_args`` as in kedro-datasets: here a semicolon-separated export."""
    path = tmp_path / "semi.csv"
    ds = LandingCSVDataset(
        filepath=str(path), load_args={"separator": ";"}, save_args={"separator": ";"}
    )
    ds.save(pl.DataFrame({"id": [1, 2], "name": ["a,b", "c"]}))
    assert path.read_text().splitlines()[0] == "id;name"
    path.write_text(path.read_text() + "3\n4;d;extra\n")
    loaded = ds.load()
    assert loaded.get_column("name").to_list() == ["a,b", "c", None, "d"]
    assert loaded.get_column("_malformed").to_list() == [False, False, True, True]


@pytest.mark.parametrize("end", [b"\r", b"\r\n", b"\n"])
def test_landing_reads_every_line_ending(tmp_path: Path, end: bytes) -> None:
    """A file whose lines end with CR alone (old Mac exports) holds rows like any other."""
    path = tmp_path / "ends.csv"
    lines = [b"a,b", *(f"{i},x{i}".encode() for i in range(20))]
    path.write_bytes(end.join(lines) + end)
    loaded = LandingCSVDataset(filepath=str(path)).load()
    assert loaded.height == 20
    assert loaded.get_column("a").to_list() == [str(i) for i in range(20)]
    assert not loaded.get_column("_malformed").any()
