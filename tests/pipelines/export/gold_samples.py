"""The synthetic gold tables of ``medallion_dev.gold_samples``, under their test-side name."""

from medallion_dev.gold_samples import AS_OF, customer_metrics, from_contract, gold_tables

__all__ = ["AS_OF", "customer_metrics", "from_contract", "gold_tables"]
