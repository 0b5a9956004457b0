"""What working on the project needs beyond the product itself.

* ``local_mongo``: ``medallion-mongo start|stop|status``, the local MongoDB-compatible
  server that ``make up`` runs on a fixed port;
* ``processes``, ``mongo``, ``s3``, ``api``: throw-away servers on free loopback ports
  (nx-27017, moto's S3, the GraphQL API), started and stopped by the tests and the benches;
* ``gold_samples``: synthetic gold tables that match the gold contract.

Nothing here is imported by the pipelines, the API or the app.
"""
