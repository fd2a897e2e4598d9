"""The exceptions lrr-es raises. Each also inherits the builtin it resembles."""


class LrrError(Exception):
    """Base class of every error lrr-es raises on purpose."""


class ConfigError(LrrError, ValueError):
    """A configuration value is missing, unknown or out of range."""


class ClusterError(LrrError, RuntimeError):
    """The local development cluster could not be started, stopped or reached."""


class EsUnavailableError(LrrError, ConnectionError):
    """Elasticsearch did not answer, or answered with an error we cannot serve around."""


class BulkRefusedError(LrrError, ValueError):
    """Elasticsearch refused a whole _bulk request (an item it cannot take spoils the request: an _id over
    512 bytes, text that is not valid Unicode...); ``status`` is its HTTP status (None: never sent)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MigrationError(LrrError, RuntimeError):
    """A migration step failed; the alias was left where it was."""


class LoadError(LrrError, ValueError):
    """A catalog file cannot be read at all (single bad rows are reported, not raised)."""


class QueryError(LrrError, ValueError):
    """A search request cannot be served as given (empty text, bad size, unknown strategy...)."""


class SimulationError(LrrError, ValueError):
    """Simulated queries or traffic cannot be generated as asked (bad mix, unusable catalog, ...)."""


class ModelError(LrrError, RuntimeError):
    """A learned model (semantic, policy, ranker) is missing, damaged or could not be built or stored."""


class PolicyError(LrrError, ValueError):
    """A bandit policy was given input it cannot use (context, arms, budget, decision, reward)."""


class FeedbackError(LrrError, ValueError):
    """A feedback event is invalid (unknown action, negative position, bad timestamp, oversized text...)."""


class FeedbackBacklogError(LrrError, RuntimeError):
    """Feedback cannot be accepted: the writer's queue stayed full (Elasticsearch slow or down) or it is closed."""


class MissingCapabilityError(LrrError, RuntimeError):
    """The Elasticsearch node lacks a module lrr-es needs (Painless, rank_feature, analysis-common, reindex)."""
