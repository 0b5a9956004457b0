"""The export manifest contract, shared by the writer (Kedro) and the readers (the API).

Kept free of Kedro and polars imports so readers can use it cheaply. The writer is
``medallion_kedro.datasets.mongo_manifest``.
"""

from __future__ import annotations

#: Collection holding the current manifest of each database (one document each).
MANIFEST = "_manifest"
#: Every committed manifest, ``_id`` = run id.
HISTORY = "_manifest_history"
#: One document per running export: its lease on its run-specific collections.
LEASES = "_export_leases"
#: Version of the manifest document's shape.
FORMAT = 1
#: How to create the gold collections when nothing was exported yet.
EXPORT_HINT = "run `kedro run --pipelines export` (after the gold pipeline)"


def manifest_id(database: str) -> str:
    """``_id`` of the current manifest of ``database`` in ``_manifest``.

    The database name is part of the key because nx-27017 in single-file mode shares
    collection names across databases.
    """
    return f"{database}:current"
