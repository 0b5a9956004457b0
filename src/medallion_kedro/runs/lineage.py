"""OpenLineage run events for each run and each node, with row counts on outputs.

Where they go (read from the environment, the OpenLineage client's own variable names):

* ``OPENLINEAGE_URL`` set: HTTP POST to ``$OPENLINEAGE_URL/$OPENLINEAGE_ENDPOINT``
  (default ``api/v1/lineage``, the Marquez path), with ``OPENLINEAGE_API_KEY`` as a bearer
  token when set;
* ``OPENLINEAGE_DISABLED=true``: nowhere;
* otherwise a file in the lake: ``<lake>/_lineage/events.jsonl`` (one JSON event a line) on a
  local lake; on S3, where objects cannot be appended to, one ``_lineage/events-<time>.jsonl``
  object per run (its events, one a line), written when the run ends: one request, not
  one per event (two per node).

Datasets are named the way OpenLineage consumers join them across tools: a lake table is
namespace = the lake root URI, name = ``<layer>/<table>``; a MongoDB collection is
namespace = the server URI without credentials, name = ``<database>.<collection>``.
Sending is best effort: a consumer that is down costs a warning, never the run.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from openlineage.client.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    error_message_run,
    job_type_job,
    parent_run,
)
from openlineage.client.generated.output_statistics_output_dataset import (
    OutputStatisticsOutputDatasetFacet as OutputStatistics,
)
from openlineage.client.serde import Serde
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.http import HttpConfig, HttpTransport, create_token_provider
from openlineage.client.transport.transport import Transport

from medallion_kedro.mongo_auth import redact, without_credentials

log = logging.getLogger(__name__)

PRODUCER = "urn:medallion-kedro"
LAKE_LAYERS = ("landing", "bronze", "silver", "quality", "gold")
JOB_NAMESPACE = "medallion-kedro"

#: dataset name in the catalog -> its OpenLineage datasets as (namespace, name, part): one for
#: a lake table or a collection (part None), one per collection for a dataset that publishes
#: several tables at once (part = the table); none to leave it out
Locator = Callable[[str], list[tuple[str, str, str | None]]]


def strip_credentials(uri: str) -> str:
    """``mongodb://user:pw@host:27017/db?x=y`` -> ``mongodb://host:27017`` (whatever the
    password holds: :func:`medallion_kedro.mongo_auth.without_credentials`)."""
    return without_credentials(uri)


def lake_namespace(lake_root: str) -> str:
    """The lake root as a URI: ``s3://bucket/prefix`` or ``file:///abs/path``."""
    if "://" in lake_root:
        return lake_root.rstrip("/")
    return "file://" + os.path.abspath(lake_root)


def make_locator(
    lake_root: str,
    mongo_uri: str,
    database_of: Callable[[str], str | None],
    collections_of: Callable[[str], list[str] | None] = lambda _: None,
) -> Locator:
    """A locator for lake tables (``<layer>.<table>``) and ``mongo.*`` datasets.

    ``database_of`` gives the database a ``mongo.*`` dataset writes to; without it, or
    without ``mongo_uri``, collections are left out. ``collections_of`` gives the tables of
    a ``mongo.*`` dataset that publishes several (the export run, ``mongo.gold``): each is
    named ``<database>.<table>``, the collection readers see.
    """
    lake_ns = lake_namespace(lake_root)

    @functools.cache
    def mongo_namespace() -> str | None:  # the driver's URI parser, once a run has a mongo.*
        return strip_credentials(mongo_uri) if mongo_uri else None

    def locate(dataset: str) -> list[tuple[str, str, str | None]]:
        layer, _, table = dataset.partition(".")
        if not table:
            return []
        if layer in LAKE_LAYERS:
            return [(lake_ns, f"{layer}/{table}", None)]
        if layer == "mongo" and (mongo_ns := mongo_namespace()):
            database = database_of(dataset)
            if not database:
                return []
            parts = collections_of(dataset)
            if parts is not None:
                return [(mongo_ns, f"{database}.{part}", part) for part in parts]
            return [(mongo_ns, f"{database}.{table}", None)]
        return []

    return locate


def transport_from_environment(lake_root: str, storage_options: dict[str, Any]) -> Transport | None:
    """The transport the environment asks for (see the module docstring)."""
    if os.environ.get("OPENLINEAGE_DISABLED", "").lower() in ("1", "true", "yes"):
        return None
    url = os.environ.get("OPENLINEAGE_URL")
    if url:
        api_key = os.environ.get("OPENLINEAGE_API_KEY")
        auth = {"type": "api_key", "apiKey": api_key} if api_key else {}
        config = HttpConfig(
            url=url,
            endpoint=os.environ.get("OPENLINEAGE_ENDPOINT", "api/v1/lineage"),
            timeout=float(os.environ.get("OPENLINEAGE_TIMEOUT", "5")),
            auth=create_token_provider(auth),
            retry={"total": 2, "connect": 1, "read": 1, "backoff_factor": 0.2,
                   "status_forcelist": [500, 502, 503, 504], "allowed_methods": ["POST"]},
        )  # fmt: skip
        return HttpTransport(config)
    root = lake_root.rstrip("/")
    if "://" in root and not root.startswith("file://"):
        return RunObjectTransport(f"{root}/_lineage/events", storage_options)
    folder = os.path.join(root.removeprefix("file://"), "_lineage")
    os.makedirs(folder, exist_ok=True)
    return FileTransport(
        FileConfig(log_file_path=os.path.join(folder, "events.jsonl"), append=True)
    )


class RunObjectTransport(Transport):
    """Keeps a run's events and writes them, one a line, as one object when the client is
    closed (the run has ended): ``<prefix>-<time of the first event>.jsonl``."""

    kind = "medallion_run_object"

    def __init__(self, prefix: str, storage_options: dict[str, Any]) -> None:
        self.prefix, self.storage_options = prefix, storage_options
        self.lines: list[str] = []
        self.started = datetime.now(UTC)

    def emit(self, event: Any) -> None:
        self.lines.append(Serde.to_json(event))

    def close(self, timeout: float = -1) -> bool:
        import fsspec

        if not self.lines:
            return True
        lines, self.lines = self.lines, []
        path = f"{self.prefix}-{self.started.strftime('%Y%m%dT%H%M%S.%f')}.jsonl"
        with fsspec.open(path, "w", **self.storage_options) as file:
            file.write("\n".join(lines) + "\n")
        return True


class LineageEmitter:
    """Builds and sends the run events of one Kedro run and of its nodes."""

    def __init__(self, transport: Transport | None, locate: Locator) -> None:
        self._client = OpenLineageClient(transport=transport) if transport else None
        self._locate = locate
        self.where = type(transport).__name__ if transport else "nowhere"

    def _datasets(
        self,
        names: Iterable[str],
        rows: Mapping[str, int | None] | None = None,
        part_rows: Mapping[str, Mapping[str, int | None]] | None = None,
    ) -> list[tuple[str, str, int | None]]:
        found = []
        for name in names:
            for namespace, located, part in self._locate(name):
                if part is None:
                    count = (rows or {}).get(name)
                else:
                    count = (part_rows or {}).get(name, {}).get(part)
                found.append((namespace, located, count))
        return found

    def close(self) -> None:
        """Send what the transport still holds (an S3 lake's run object); best effort."""
        if self._client is None:
            return
        try:
            self._client.close()
        except Exception as exc:  # noqa: BLE001 - lineage is best effort, the run goes on
            log.warning(
                "OpenLineage events of this run could not be written (%s: %s); the run goes "
                "on. Set OPENLINEAGE_DISABLED=true to turn them off.",
                type(exc).__name__, redact(str(exc)),
            )  # fmt: skip

    def emit(  # noqa: PLR0913
        self,
        state: RunState,
        *,
        run_id: str,
        job: str,
        at: datetime,
        inputs: Iterable[str] = (),
        outputs: Mapping[str, int | None] | Iterable[str] = (),
        parent: tuple[str, str] | None = None,
        error: str | None = None,
        part_rows: Mapping[str, Mapping[str, int | None]] | None = None,
    ) -> None:
        """Send one event; ``outputs`` may map dataset names to rows written, ``part_rows``
        a multi-table dataset's name to the rows of each of its tables, ``error`` is the
        public form of the run's error (:func:`medallion_kedro.public_errors.public_text`)."""
        if self._client is None:
            return
        run_facets: dict[str, Any] = {}
        if parent is not None:
            parent_run_id, parent_job = parent
            run_facets["parent"] = parent_run.ParentRunFacet(
                run=parent_run.Run(runId=parent_run_id),
                job=parent_run.Job(namespace=JOB_NAMESPACE, name=parent_job),
            )
        if error is not None:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=redact(error), programmingLanguage="python"
            )
        rows = outputs if isinstance(outputs, Mapping) else None
        event = RunEvent(
            eventType=state,
            eventTime=at.isoformat(),
            run=Run(runId=run_id, facets=run_facets),
            job=Job(
                namespace=JOB_NAMESPACE,
                name=job,
                facets={
                    "jobType": job_type_job.JobTypeJobFacet(
                        processingType="BATCH",
                        integration="KEDRO",
                        jobType="TASK" if parent else "JOB",
                    )
                },
            ),
            producer=PRODUCER,
            inputs=[InputDataset(namespace=ns, name=n) for ns, n, _ in self._datasets(inputs)],
            outputs=[
                OutputDataset(
                    namespace=ns,
                    name=n,
                    outputFacets=(
                        {}
                        if count is None
                        else {"outputStatistics": OutputStatistics(rowCount=count)}
                    ),
                )
                for ns, n, count in self._datasets(outputs, rows, part_rows)
            ],
        )
        try:
            self._client.emit(event)
        except Exception as exc:  # noqa: BLE001 - lineage is best effort, the run goes on
            log.warning(
                "OpenLineage %s event of %s could not be sent (%s: %s); the run goes on. "
                "Check OPENLINEAGE_URL, or set OPENLINEAGE_DISABLED=true.",
                state.value, job, type(exc).__name__, redact(str(exc)),
            )  # fmt: skip
