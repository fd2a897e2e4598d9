"""Configuration: frozen dataclasses loaded from one YAML file plus ``LRR_*`` environment variables.

Every value is validated on load; an error names the field and the bad value.
Environment overrides use ``LRR_<SECTION>__<FIELD>`` (values parsed as YAML), e.g.
``LRR_FEEDBACK__DECAY_DAYS=10``; ``ES_URL`` or ``LRR_ES_URL`` sets ``elasticsearch.url``.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import ConfigError
from .roles import Attribute, FieldMap, field_map  # noqa: F401 - FieldMap and Attribute are part of the config

ENV_PREFIX = "LRR_"
BUILTIN_CALLER_FIELDS = ("timestamp", "device", "user_searches", "locale")  # lrr_es.context.CALLER_FIELDS
_CALLER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KNOWN_POLICIES = ("thompson", "linucb", "epsilon_greedy", "vw")
KNOWN_STRATEGIES = ("lexical", "popular", "structured", "memory", "fuzzy", "semantic", "explore")


@dataclass(frozen=True)
class ContextConfig:
    """Caller fields of one index: ``fields`` an app may pass in a search's ``context`` besides the
    built-in ones (they enter the bandit's context), ``memory_key`` the caller fields (``locale`` or
    one of ``fields``) that scope the Q2E memory key, so that users of two locales keep two memories."""

    fields: tuple[str, ...] = ()
    memory_key: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexConfig:
    """One searchable catalog, named by the alias the app searches."""

    name: str
    fields: FieldMap = FieldMap()
    strategies: tuple[str, ...] = KNOWN_STRATEGIES
    shards: int = 1
    replicas: int = 0
    # false: the client wrapper passes every search of this index straight to Elasticsearch (for incidents)
    learning: bool = True
    context: ContextConfig = ContextConfig()


@dataclass(frozen=True)
class EsConfig:
    url: str = "http://127.0.0.1:9200"
    timeout: float = 30.0


@dataclass(frozen=True)
class BanditConfig:
    policy: str = "thompson"
    budget: float = 4.0  # cost budget of a plan: the sum of the chosen strategies' relative costs (lexical = 1)
    seed: int = 7


@dataclass(frozen=True)
class RankerConfig:
    candidates: int = 200
    # log the ranking features of the first log_depth served candidates and of every shown hit with
    # each decision (what `lrr-es train` learns from); without a live ranker they are computed on the
    # decision log's thread, not in the search
    log_features: bool = True
    log_depth: int = 30
    # compute the features in the search even without a live ranker (SearchResult.features; a few ms
    # per search), e.g. for simulations that read them from the result
    always_features: bool = False
    # the share of searches whose top hit is swapped with a random other hit of the first page
    # (logged), which gives the position-bias estimate of `lrr-es train` randomized evidence
    swap_rate: float = 0.0
    # promotion by team-draft interleaving (lrr_es.rank.interleave): the share of logged first pages
    # that interleave the live order with the candidate `lrr-es train` put on trial (0: none, and
    # `lrr-es train` promotes on the holdout alone); the candidate is promoted when the sign test over
    # at least interleave_min decided searches is significant at interleave_alpha in its favour
    interleave_share: float = 0.05
    interleave_alpha: float = 0.05
    interleave_min: int = 50


@dataclass(frozen=True)
class RetrievalConfig:
    """How a plan runs: the default quota per strategy, the per-strategy timeout, the RRF fusion."""

    quota: int = 50
    timeout_ms: int = 500
    rrf_k: float = 60.0
    # RRF weight per strategy (default 1). Explore's candidates join the pool for counterfactual data
    # but, before a ranker has learned whether they are any good, should rarely lead the page.
    weights: Mapping[str, float] = field(default_factory=lambda: {"explore": 0.2})
    # sub-searches of repeatable strategies ask for Elasticsearch's shard request cache (size > 0 is
    # cached only when asked): a repeated query skips the query phase until the index refreshes with changes
    request_cache: bool = True


@dataclass(frozen=True)
class FeedbackConfig:
    """Q2E memory semantics: weights per action, decay half-life, bounds."""

    weights: Mapping[str, float] = field(
        default_factory=lambda: {"click": 1.0, "like": 2.0, "add_to_favorites": 2.0, "play": 3.0}
    )
    decay_days: float = 30.0
    max_keys: int = 64
    max_increment: float = 5.0
    max_queries: int = 20
    # Abuse bound: one session (or, without one, one search) moves one (query key, document) score by
    # at most this much (in weight units, either direction) per cap_window_s. Enforced in the writer
    # process (lrr_es/feedback/cap.py explains the multi-process trade-off).
    cap_per_session: float = 3
    cap_window_s: float = 3600.0
    # Spam bound that does not depend on the caller's honesty: one query key's score on one document
    # moves by at most pair_cap (weight units, either direction) at once and pair_cap per pair_window_s
    # after that (a token bucket), however many sessions or processes send the events. Enforced inside
    # the Painless update, on the writers' clock (null: off).
    pair_cap: float | None = 20.0
    pair_window_s: float = 3600.0
    play_full_s: float = 30.0  # a play ``value`` above 1 is seconds; this many count as a full play
    search_ttl_s: float = 86_400.0  # feedback later than this after its search is an orphan
    coalesce: bool = True  # combine the events of one document (all its keys) into one scripted update
    apply_window_ms: int = 250  # how long a document's Q2E increments are gathered before its one update
    # every Q2E update leaves the old copy of its document deleted; past this share of deleted copies in a
    # catalog index (checked every 500 updates) the writer has Elasticsearch expunge them (null: never)
    max_deleted_share: float | None = 0.25
    queue_size: int = 10_000  # events held in memory while Elasticsearch is slow or down
    # bytes (approximate) of the events the writer holds: queued, in flight, awaiting their Q2E update,
    # replayed from the spool; at the bound feedback() blocks like on a full queue
    queue_max_bytes: int = 64 * 2 ** 20
    rejected_max_bytes: int = 64 * 2 ** 20  # the dead-letter file's bound; past it events are counted, not kept
    batch_size: int = 500
    flush_ms: int = 200  # longest wait for a batch to fill
    block_timeout_s: float = 5.0  # how long feedback() blocks on a full queue before raising
    spool_path: str | None = None  # default: $LRR_HOME/feedback-spool.jsonl (~/.local/share/lrr-es/)
    # the index an app writes its User Behavior Insights events to; through the client wrapper each
    # event written there with index() is also taken as feedback (null: none)
    ubi_index: str | None = "ubi_events"


@dataclass(frozen=True)
class AdminConfig:
    """The admin panel (``lrr-es admin serve``): who may log in, where it listens.

    ``users`` maps a user name to a werkzeug password hash (``lrr-es admin add-user NAME`` prints
    one); there is no default user and no default password. ``secret_key`` signs the session cookie
    (null: a random key per process, so logins do not survive a restart). ``login_limit`` caps the
    login attempts (POSTs) per remote address, in Flask-Limiter's notation ("10 per minute").
    """

    users: Mapping[str, str] = field(default_factory=dict)
    secret_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8470
    login_limit: str = "10 per minute"


@dataclass(frozen=True)
class Config:
    elasticsearch: EsConfig = EsConfig()
    indices: Mapping[str, IndexConfig] = field(
        default_factory=lambda: {"music": IndexConfig(name="music")}
    )
    bandit: BanditConfig = BanditConfig()
    ranker: RankerConfig = RankerConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    feedback: FeedbackConfig = FeedbackConfig()
    admin: AdminConfig = AdminConfig()

    def index(self, name: str) -> IndexConfig:
        """The configuration of index ``name``; a clear error lists the configured ones."""
        try:
            return self.indices[name]
        except KeyError:
            known = ", ".join(sorted(self.indices)) or "none"
            raise ConfigError(f"index {name!r} is not configured (configured: {known})") from None


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read ``path`` (or ``$LRR_CONFIG``, or nothing) and the environment into a validated Config."""
    env = os.environ if env is None else env
    path = path or env.get("LRR_CONFIG")
    raw: dict[str, Any] = {}
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {path} must hold a mapping, not {type(raw).__name__}")
    return config_from_dict(_apply_env(raw, env))


def config_from_dict(raw: Mapping[str, Any]) -> Config:
    """Build a Config from plain data, validating every field."""
    _reject_unknown("config", raw, {f.name for f in dataclasses.fields(Config)})
    indices_raw = raw.get("indices", {"music": {}})
    if not isinstance(indices_raw, Mapping) or not indices_raw:
        raise ConfigError("indices must be a non-empty mapping of alias name to settings")
    indices = {name: _index(name, body) for name, body in indices_raw.items()}
    for a in indices:
        for b in indices:
            if a != b and b.startswith(f"{a}-v"):
                raise ConfigError(f"indices: {b!r} collides with the versioned indices of {a!r} ({a}-v<N>); rename one")
    return Config(
        elasticsearch=_section(EsConfig, "elasticsearch", raw.get("elasticsearch")),
        indices=indices,
        bandit=_section(BanditConfig, "bandit", raw.get("bandit")),
        ranker=_section(RankerConfig, "ranker", raw.get("ranker")),
        retrieval=_section(RetrievalConfig, "retrieval", raw.get("retrieval")),
        feedback=_section(FeedbackConfig, "feedback", raw.get("feedback")),
        admin=_section(AdminConfig, "admin", raw.get("admin")),
    )


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    url = env.get("LRR_ES_URL") or env.get("ES_URL")
    if url:
        section = out.get("elasticsearch") or {}
        if not isinstance(section, dict):
            raise ConfigError(f"elasticsearch must be a mapping, not {section!r}")
        out["elasticsearch"] = {**section, "url": url}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or "__" not in key:
            continue
        section, _, name = key[len(ENV_PREFIX):].lower().partition("__")
        target = out[section] = out.get(section) or {}
        if not isinstance(target, dict):
            raise ConfigError(f"{key}: section {section!r} is not a mapping")
        try:
            target[name] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f"{key}={value!r} is not a valid value") from None
    return out


def _reject_unknown(where: str, raw: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")


def _section(cls: type, where: str, raw: Any):
    if raw is None:
        return cls()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping, not {raw!r}")
    _reject_unknown(where, raw, {f.name for f in dataclasses.fields(cls)})
    obj = cls(**raw)
    _VALIDATORS[cls](where, obj)
    return obj


def _index(name: Any, raw: Any) -> IndexConfig:
    if not isinstance(name, str) or not _valid_index_name(name):
        raise ConfigError(f"indices: {name!r} is not a valid index alias (lowercase, no spaces or \\/*?\"<>|,#:)")
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"indices.{name} must be a mapping, not {raw!r}")
    _reject_unknown(f"indices.{name}", raw, {"fields", "strategies", "shards", "replicas", "learning", "context"})
    fields_raw = raw.get("fields") or {}
    if not isinstance(fields_raw, Mapping):
        raise ConfigError(f"indices.{name}.fields must be a mapping of role to field name, not {fields_raw!r}")
    fields = field_map(f"indices.{name}.fields", fields_raw)
    strategies_raw = raw.get("strategies", KNOWN_STRATEGIES)
    if not isinstance(strategies_raw, (list, tuple)) or not strategies_raw:
        raise ConfigError(f"indices.{name}.strategies must be a non-empty list, not {strategies_raw!r}")
    strategies = tuple(strategies_raw)
    bad = [s for s in strategies if s not in KNOWN_STRATEGIES]
    if bad:
        raise ConfigError(f"indices.{name}.strategies: unknown {bad} (known: {', '.join(KNOWN_STRATEGIES)})")
    shards, replicas = raw.get("shards", 1), raw.get("replicas", 0)
    _check_int(f"indices.{name}.shards", shards, 1, 1024)
    _check_int(f"indices.{name}.replicas", replicas, 0, 16)
    learning = raw.get("learning", True)
    if not isinstance(learning, bool):
        raise ConfigError(f"indices.{name}.learning must be true or false, got {learning!r}")
    return IndexConfig(name=name, fields=fields, strategies=strategies, shards=shards, replicas=replicas,
                       learning=learning, context=_context(f"indices.{name}.context", raw.get("context")))


def _context(where: str, raw: Any) -> ContextConfig:
    if raw is None:
        return ContextConfig()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping with fields and memory_key, not {raw!r:.80}")
    _reject_unknown(where, raw, {"fields", "memory_key"})
    names: dict[str, tuple[str, ...]] = {}
    for key in ("fields", "memory_key"):
        value = raw.get(key) or ()
        value = (value,) if isinstance(value, str) else value
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and _CALLER_NAME.match(v) for v in value):
            raise ConfigError(f"{where}.{key} must be a list of field names (lowercase letters, digits, _), "
                              f"got {raw.get(key)!r:.80}")
        names[key] = tuple(dict.fromkeys(value))
    builtin = [f for f in names["fields"] if f in BUILTIN_CALLER_FIELDS]
    if builtin:
        raise ConfigError(f"{where}.fields: {', '.join(builtin)} are built in (known without naming them: "
                          f"{', '.join(BUILTIN_CALLER_FIELDS)})")
    unknown = [f for f in names["memory_key"] if f not in ("locale", *names["fields"])]
    if unknown:
        raise ConfigError(f"{where}.memory_key: {', '.join(unknown)} is neither locale nor one of context.fields")
    return ContextConfig(**names)


def _valid_index_name(name: str) -> bool:
    return bool(name) and name == name.lower() and not name.startswith(("-", "_", "+")) and not any(
        c in name for c in ' \\/*?"<>|,#:'
    )


def _check_int(where: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where} must be an integer in [{low}, {high}], got {value!r}")


def _check_number(where: str, value: Any, low: float, high: float) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high
    if not ok:
        raise ConfigError(f"{where} must be a number in [{low}, {high}], got {value!r}")


def _check_es(where: str, c: EsConfig) -> None:
    if not isinstance(c.url, str) or not c.url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.url must start with http:// or https://, got {c.url!r}")
    _check_number(f"{where}.timeout", c.timeout, 0.1, 3600)


def _check_bandit(where: str, c: BanditConfig) -> None:
    if c.policy not in KNOWN_POLICIES:
        raise ConfigError(f"{where}.policy: unknown {c.policy!r} (known: {', '.join(KNOWN_POLICIES)})")
    _check_number(f"{where}.budget", c.budget, 1, 100)
    _check_int(f"{where}.seed", c.seed, 0, 2**32 - 1)


def _check_ranker(where: str, c: RankerConfig) -> None:
    _check_int(f"{where}.candidates", c.candidates, 1, 10_000)
    for name in ("log_features", "always_features"):
        if not isinstance(getattr(c, name), bool):
            raise ConfigError(f"{where}.{name} must be true or false, got {getattr(c, name)!r}")
    _check_int(f"{where}.log_depth", c.log_depth, 0, 1000)
    _check_number(f"{where}.swap_rate", c.swap_rate, 0, 1)
    _check_number(f"{where}.interleave_share", c.interleave_share, 0, 1)
    _check_number(f"{where}.interleave_alpha", c.interleave_alpha, 1e-9, 0.5)
    _check_int(f"{where}.interleave_min", c.interleave_min, 1, 10_000_000)


def _check_retrieval(where: str, c: RetrievalConfig) -> None:
    _check_int(f"{where}.quota", c.quota, 1, 1000)
    _check_int(f"{where}.timeout_ms", c.timeout_ms, 1, 600_000)
    _check_number(f"{where}.rrf_k", c.rrf_k, 0, 1e6)
    if not isinstance(c.request_cache, bool):
        raise ConfigError(f"{where}.request_cache must be true or false, got {c.request_cache!r}")
    if not isinstance(c.weights, Mapping):
        raise ConfigError(f"{where}.weights must map strategy names to numbers, got {c.weights!r}")
    for name, weight in c.weights.items():
        if name not in KNOWN_STRATEGIES:
            raise ConfigError(f"{where}.weights: unknown strategy {name!r} (known: {', '.join(KNOWN_STRATEGIES)})")
        _check_number(f"{where}.weights.{name}", weight, 0, 1000)


def _check_feedback(where: str, c: FeedbackConfig) -> None:
    if not isinstance(c.weights, Mapping) or not c.weights:
        raise ConfigError(f"{where}.weights must map action names to numbers, got {c.weights!r}")
    for action, weight in c.weights.items():
        _check_number(f"{where}.weights.{action}", weight, -100, 100)
    _check_number(f"{where}.decay_days", c.decay_days, 0.001, 36500)
    _check_int(f"{where}.max_keys", c.max_keys, 1, 10_000)
    _check_number(f"{where}.max_increment", c.max_increment, 0.001, 1e6)
    _check_int(f"{where}.max_queries", c.max_queries, 0, 1000)
    _check_number(f"{where}.cap_per_session", c.cap_per_session, 0.001, 1e6)
    _check_number(f"{where}.cap_window_s", c.cap_window_s, 1, 30 * 86_400)
    if c.pair_cap is not None:
        _check_number(f"{where}.pair_cap", c.pair_cap, 0, 1e6)
    _check_number(f"{where}.pair_window_s", c.pair_window_s, 1, 30 * 86_400)
    _check_number(f"{where}.play_full_s", c.play_full_s, 1, 86_400)
    _check_number(f"{where}.search_ttl_s", c.search_ttl_s, 1, 365 * 86_400)
    if not isinstance(c.coalesce, bool):
        raise ConfigError(f"{where}.coalesce must be true or false, got {c.coalesce!r}")
    _check_int(f"{where}.apply_window_ms", c.apply_window_ms, 0, 600_000)
    if c.max_deleted_share is not None:
        _check_number(f"{where}.max_deleted_share", c.max_deleted_share, 0.01, 0.99)
    _check_int(f"{where}.queue_size", c.queue_size, 1, 10_000_000)
    _check_int(f"{where}.queue_max_bytes", c.queue_max_bytes, 2 ** 16, 2 ** 40)
    _check_int(f"{where}.rejected_max_bytes", c.rejected_max_bytes, 0, 2 ** 40)
    _check_int(f"{where}.batch_size", c.batch_size, 1, 10_000)
    _check_int(f"{where}.flush_ms", c.flush_ms, 1, 60_000)
    _check_number(f"{where}.block_timeout_s", c.block_timeout_s, 0, 3600)
    if c.spool_path is not None and not (isinstance(c.spool_path, str) and c.spool_path.strip()):
        raise ConfigError(f"{where}.spool_path must be a file path or null, got {c.spool_path!r}")
    if c.ubi_index is not None and not (isinstance(c.ubi_index, str) and _valid_index_name(c.ubi_index)):
        raise ConfigError(f"{where}.ubi_index must be an index name or null, got {c.ubi_index!r}")


_HASH_METHODS = ("scrypt:", "pbkdf2:")  # what werkzeug.security.generate_password_hash writes


def _check_rate(where: str, value: object) -> None:
    from limits import parse_many  # Flask-Limiter's own parser: what it accepts, we accept
    try:
        if not isinstance(value, str) or not parse_many(value):
            raise ValueError(value)
    except ValueError:
        raise ConfigError(f"{where} must be a rate such as '10 per minute' or '5/minute;50/hour', got {value!r:.80}") from None


def _check_admin(where: str, c: AdminConfig) -> None:
    if not isinstance(c.users, Mapping):
        raise ConfigError(f"{where}.users must map user names to password hashes, got {c.users!r:.80}")
    for name, hashed in c.users.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ConfigError(f"{where}.users: a user name must be a non-empty string, got {name!r:.80}")
        if not isinstance(hashed, str) or not hashed.startswith(_HASH_METHODS):
            # a plain password here would be a secret in a file and a login that never works
            raise ConfigError(f"{where}.users.{name} must be a password hash (scrypt:... or pbkdf2:..., "
                              f"from `lrr-es admin add-user {name}`), not a plain password")
    if c.secret_key is not None and not (isinstance(c.secret_key, str) and len(c.secret_key) >= 16):
        raise ConfigError(f"{where}.secret_key must be a string of at least 16 characters or null")
    if not isinstance(c.host, str) or not c.host.strip():
        raise ConfigError(f"{where}.host must be a host name or address, got {c.host!r}")
    _check_rate(f"{where}.login_limit", c.login_limit)
    _check_int(f"{where}.port", c.port, 1, 65535)


_VALIDATORS = {
    AdminConfig: _check_admin,
    EsConfig: _check_es,
    BanditConfig: _check_bandit,
    RankerConfig: _check_ranker,
    RetrievalConfig: _check_retrieval,
    FeedbackConfig: _check_feedback,
}
