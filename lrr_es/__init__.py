"""lrr-es: learning to rank and retrieve on top of Elasticsearch."""

__version__ = "0.1.0"
