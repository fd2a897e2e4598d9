"""The drop-in wrapper: an app's own Elasticsearch client that learns (``LrrClient``)."""
from .proxy import LrrClient, PassThroughCounts

__all__ = ["LrrClient", "PassThroughCounts"]
