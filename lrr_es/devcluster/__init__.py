"""A real local Elasticsearch 7.10.2 node (or cluster) started from Maven Central artifacts."""
from .cluster import ClusterSpec, ClusterStatus, default_data_dir, logs, resolve_classpath, start, status, stop

__all__ = ["ClusterSpec", "ClusterStatus", "default_data_dir", "logs", "resolve_classpath", "start", "status", "stop"]
