"""medallion-kedro: a medallion lakehouse on Kedro and polars."""

__version__ = "0.1.0"
