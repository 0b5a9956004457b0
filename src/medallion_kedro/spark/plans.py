"""What a Spark physical plan says about where its work runs."""

from __future__ import annotations

#: Physical operators that run Python on the executors (UDFs, pandas or Arrow functions).
PYTHON_OPERATORS = (
    "BatchEvalPython",
    "ArrowEvalPython",
    "MapInPandas",
    "MapInArrow",
    "FlatMapGroupsInPandas",
    "FlatMapCoGroupsInPandas",
    "AggregateInPandas",
    "WindowInPandas",
    "PythonUDF",
)
