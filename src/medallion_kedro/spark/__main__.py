"""``python -m medallion_kedro.spark``: fetch the ``spark`` environment's connectors.

Starts a session from ``conf/spark/spark.yml`` (on ``local[1]``), so Spark resolves
``spark.jars.packages`` (delta-spark, hadoop-aws and its AWS SDK) from Maven Central into
the Ivy cache ``spark.jars.ivy`` names, then stops it. ``scripts/setup.sh`` runs it once;
later sessions, test runs among them, resolve the same versions from that cache.
"""

from __future__ import annotations

import os
import sys

from medallion_kedro.project_catalog import config_loader, project_root
from medallion_kedro.spark.session import configure_from, session_settings, spark_session


def main() -> int:
    os.environ["SPARK_MASTER"] = "local[1]"
    conf = configure_from(config_loader(project_root(), "spark"))
    if conf is None:
        print("error: conf/spark/spark.yml is missing or empty", file=sys.stderr)
        return 1
    spark = spark_session(s3=True)
    try:
        spark.range(1).count()
    finally:
        spark.stop()
    packages = session_settings(conf, s3=True)["spark.jars.packages"]
    print(f"Spark connectors {packages} are in {conf['spark.jars.ivy']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
