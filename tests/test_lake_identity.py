"""``lake_identity``: one id per lake, made once, the same for everyone who asks at once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import fsspec
import pytest

from medallion_kedro.lake_identity import ID_FILE, LakeIdentityDataset, lake_id
from tests.servers import S3Server


def test_a_folder_gets_one_id_however_many_processes_ask_at_once(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with get_context("spawn").Pool(6) as pool:
        ids = pool.map(lake_id, [str(lake)] * 12)
    assert len(set(ids)) == 1 and ids[0].startswith("lake-")
    assert (lake / ID_FILE).read_text().strip() == ids[0]
    assert sorted(p.name for p in lake.iterdir()) == [ID_FILE]  # nothing left aside
    assert lake_id(str(lake)) == ids[0]  # and it never changes


def test_an_s3_lake_gets_one_id_however_many_ask_at_once(s3: S3Server) -> None:
    bucket = f"identity-{uuid.uuid4().hex[:8]}"
    options = s3.credentials()
    fs = fsspec.filesystem("s3", **options)
    fs.mkdir(bucket)
    root = f"s3://{bucket}/lake"
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: lake_id(root, options), range(16)))
    assert len(set(ids)) == 1
    fs.invalidate_cache()
    assert fs.cat_file(f"{bucket}/lake/{ID_FILE}").decode().strip() == ids[0]


def test_the_dataset_names_the_lake_and_refuses_saves(tmp_path: Path) -> None:
    dataset = LakeIdentityDataset(path=str(tmp_path / "lake"))
    loaded = dataset.load()
    assert loaded == {"id": lake_id(str(tmp_path / "lake")), "uri": str(tmp_path / "lake")}
    with pytest.raises(Exception, match="made by the lake"):
        dataset.save({"id": "x"})  # type: ignore[arg-type]
