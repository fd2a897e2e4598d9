"""The policy base class: per-arm ridge regression on a dense context, validation, state.

Every arm a keeps a ridge-regression model of its reward on the context x (shape (d,)):
``A_a = ridge * I + sum x x^T`` (d, d), ``b_a = sum r x`` (d,), its inverse ``A_a^-1`` (kept up to date
with the Sherman-Morrison formula, so a decision costs matrix-vector products, not solves) and
``theta_a = A_a^-1 b_a``. Subclasses turn these into one score per arm (``_select``); the shared rules
in ``lrr_es.bandit.decision`` turn scores into a subset under the budget and quotas.

Public methods validate and log; ``_select`` and ``_update_arm`` compute. Arms are given by name on
every call: an arm never seen before gets a fresh prior (``A = ridge * I``, ``b = 0``), and an arm that
is no longer offered is dropped from the state (with what it learned); a reward that arrives later for
a dropped arm is ignored and counted in ``ignored_rewards_``.

Contexts: a context of the wrong shape or type raises PolicyError. Non-finite entries (NaN, inf) are a
serving-time accident, not a reason to fail a search: they are replaced by 0, counted in
``nonfinite_contexts_`` and logged as a warning; the decision records the sanitized context.
"""
from __future__ import annotations

import logging
import math
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ..errors import ConfigError, ModelError, PolicyError
from .decision import DEFAULT_QUOTAS, SAFE_ARM, Arm, Decision, check_budget, check_quota_levels, parse_arms, quotas_for

log = logging.getLogger(__name__)
STATE_FORMAT = "lrr-bandit-policy"
STATE_VERSION = 1


class Policy:
    """Base class of the contextual semi-bandit policies; see the module docstring.

    Parameters: ``dim`` (context length d), ``seed`` (of the policy's own numpy Generator),
    ``ridge`` (prior precision of every arm's model), ``safe_arm`` (always in the plan) and
    ``min_score`` (an arm other than the safe one runs only when its score is above this).
    """

    name: ClassVar[str] = "base"
    extra_params: ClassVar[tuple[str, ...]] = ()  # subclass constructor parameters kept in the state

    def __init__(self, dim: int, seed: int = 7, ridge: float = 1.0, safe_arm: str = SAFE_ARM,
                 min_score: float = 0.0) -> None:
        self.dim = _int_param("dim", dim, 1)
        self.seed = _int_param("seed", seed, 0)
        self.ridge = _float_param("ridge", ridge, low=0.0, open_low=True)
        if not isinstance(safe_arm, str) or not safe_arm:
            raise ConfigError(f"safe_arm must be a non-empty string, got {safe_arm!r}")
        self.safe_arm = safe_arm
        self.min_score = _float_param("min_score", min_score)
        self._rng = np.random.default_rng(self.seed)
        self._names: tuple[str, ...] = ()
        self._kinds: dict[str, str] = {}
        self._arms_key: Any = None  # cache of the last parsed arms (descriptor snapshot, parsed)
        self._arms_parsed: tuple[Arm, ...] = ()
        self._A = np.empty((0, self.dim, self.dim))
        self._A_inv = np.empty((0, self.dim, self.dim))
        self._b = np.empty((0, self.dim))
        self._theta = np.empty((0, self.dim))
        self._n = np.empty(0, dtype=np.int64)
        self.updates_ = 0  # update calls that changed the state; part of the version
        self.nonfinite_contexts_ = 0
        self.ignored_rewards_ = 0

    # ------------------------------------------------------------------ public API
    @property
    def version(self) -> str:
        """Identifies the state decisions are made from: ``<name>-s<seed>-u<updates>``."""
        return f"{self.name}-s{self.seed}-u{self.updates_}"

    @property
    def arms(self) -> tuple[str, ...]:
        """The arms the policy currently holds a model for, in storage order."""
        return self._names

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (JSON-ready)."""
        base = {"dim": self.dim, "seed": self.seed, "ridge": self.ridge, "safe_arm": self.safe_arm,
                "min_score": self.min_score}
        return {**base, **{p: getattr(self, p) for p in self.extra_params}}

    def select(self, context: Any, arms: Sequence[Arm | Mapping[str, Any]], budget: float = 4.0,
               quotas: Sequence[int] = DEFAULT_QUOTAS) -> Decision:
        """Choose a subset of ``arms`` and a quota for each for ``context`` (shape (d,)).

        ``arms`` are ``Arm``s or descriptor dicts (``{"name", "kind", "cost"}``) and must include the
        safe arm; ``budget`` caps the total relative cost of the plan (the safe arm always runs);
        ``quotas`` are the allowed quota levels. Advances the policy's random generator.
        """
        x = self._check_context(context)
        offered = self._parse_arms(arms)
        budget = check_budget(budget)
        levels = check_quota_levels(quotas)
        self._sync(offered)
        costs = np.array([a.cost for a in offered])
        safe = self._names.index(self.safe_arm)
        chosen, propensities, means, method, plan_p = self._select(x, costs, safe, budget)
        decision = Decision(
            arms=tuple(self._names[i] for i in chosen), quotas=quotas_for(chosen, means, safe, levels),
            propensities=dict(zip(self._names, propensities.tolist())), context=tuple(x.tolist()),
            budget=budget, policy=self.name, policy_version=self.version, propensity_method=method,
            costs={a.name: a.cost for a in offered}, plan_propensity=plan_p)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s chose %s (quotas %s, propensities %s)", self.version, decision.arms, decision.quotas,
                      {a: round(decision.propensities[a], 4) for a in decision.arms})
        return decision

    def offer(self, arms: Sequence[Arm | Mapping[str, Any]]) -> "Policy":
        """Hold models for exactly ``arms`` (as ``select`` would): fresh priors for new ones, the rest dropped.

        The learner calls this with the configured arms before ``update``, so a policy that has not
        decided yet learns from the first batch and rewards of arms no longer configured are ignored.
        """
        self._sync(self._parse_arms(arms))
        return self

    def update(self, decisions: Decision | Sequence[Decision],
               rewards: Mapping[str, float] | Sequence[Mapping[str, float]]) -> "Policy":
        """Learn from the rewards of arms that ran (semi-bandit feedback); returns self.

        ``rewards[i]`` maps some of ``decisions[i].arms`` (those that ran) to a finite reward. A reward
        for an arm the decision did not choose raises PolicyError; the whole batch is validated before
        any of it is applied.
        """
        decisions, contexts, checked = self._checked_batch(decisions, rewards)
        work = list(zip(contexts, checked))
        position = {name: i for i, name in enumerate(self._names)}
        applied = 0
        for x, arm_rewards in work:
            for arm, r in arm_rewards.items():
                if arm not in position:
                    self.ignored_rewards_ += 1
                    continue
                self._update_arm(position[arm], x, r)
                applied += 1
        if applied:
            self.updates_ += 1
        log.debug("%s learned from %d arm rewards in %d decisions", self.version, applied, len(work))
        return self

    def to_state(self) -> dict[str, Any]:
        """The complete state as JSON-ready data; ``from_state`` restores it exactly (RNG included)."""
        return {**self._common_state(), "arms": [
            {"name": name, "kind": self._kinds.get(name, "unknown"), "n": int(self._n[i]), "A": self._A[i].tolist(),
             "A_inv": self._A_inv[i].tolist(), "b": self._b[i].tolist()} for i, name in enumerate(self._names)]}

    def _common_state(self) -> dict[str, Any]:
        """The part of the state every policy has: format, parameters, random generator, counters."""
        rng = self._rng.bit_generator.state
        return {
            "format": STATE_FORMAT, "format_version": STATE_VERSION, "policy": self.name,
            "params": self.get_params(),
            "rng": {"bit_generator": rng["bit_generator"], "state": str(rng["state"]["state"]),
                    "inc": str(rng["state"]["inc"]), "has_uint32": int(rng["has_uint32"]),
                    "uinteger": int(rng["uinteger"])},
            "counters": {"updates": self.updates_, "nonfinite_contexts": self.nonfinite_contexts_,
                         "ignored_rewards": self.ignored_rewards_},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "Policy":
        """The policy ``to_state`` described; a corrupt or incompatible state raises ModelError."""
        if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
            raise ModelError(f"not a policy state (format {_peek(state, 'format')!r}, expected {STATE_FORMAT!r})")
        if state.get("format_version") != STATE_VERSION:
            raise ModelError(f"policy state format_version {state.get('format_version')!r} is not supported "
                             f"(this version reads {STATE_VERSION})")
        if state.get("policy") != cls.name:
            raise ModelError(f"state is of policy {state.get('policy')!r}, not {cls.name!r}")
        try:
            policy = cls(**state["params"])
            policy._restore(state)
        except ModelError:
            raise
        except (ConfigError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"corrupt {cls.name} policy state ({type(exc).__name__}: {exc})") from None
        return policy

    def copy(self) -> "Policy":
        """An independent policy in exactly this state."""
        return type(self).from_state(self.to_state())

    # ------------------------------------------------------------------ computation
    def _select(self, x: np.ndarray, costs: np.ndarray, safe: int, budget: float
                ) -> tuple[list[int], np.ndarray, np.ndarray, str, float]:
        """(chosen indices, inclusion propensity per arm (k,), mean estimate per arm (k,), method,
        probability of serving exactly the chosen subset)."""
        raise NotImplementedError

    def _means(self, x: np.ndarray) -> np.ndarray:
        """theta_a . x for every arm: shape (k,)."""
        return self._theta @ x

    def _widths(self, x: np.ndarray) -> np.ndarray:
        """sqrt(x^T A_a^-1 x) for every arm: shape (k,)."""
        return np.sqrt(np.maximum((self._A_inv @ x) @ x, 0.0))

    def _update_arm(self, i: int, x: np.ndarray, r: float) -> None:
        """One ridge-regression step: A += x x^T, b += r x, A^-1 by Sherman-Morrison, theta = A^-1 b."""
        a_inv_x = self._A_inv[i] @ x
        self._A_inv[i] -= np.outer(a_inv_x, a_inv_x) / (1.0 + x @ a_inv_x)
        self._A[i] += np.outer(x, x)
        self._b[i] += r * x
        self._theta[i] = self._A_inv[i] @ self._b[i]
        self._n[i] += 1

    # ------------------------------------------------------------------ validation and bookkeeping
    def _check_context(self, context: Any) -> np.ndarray:
        try:
            x = np.asarray(context, dtype=np.float64)
        except (TypeError, ValueError):
            raise PolicyError(f"context must be a numeric vector of length {self.dim}, got {context!r:.80}") from None
        if x.shape != (self.dim,):
            raise PolicyError(f"context must have shape ({self.dim},), got shape {x.shape}")
        if math.isfinite(x.sum()):  # the common case in one reduction (a huge but finite sum is rare)
            return x
        finite = np.isfinite(x)
        if not finite.all():
            self.nonfinite_contexts_ += 1
            log.warning("%s: context has non-finite values at positions %s; replaced by 0", self.name,
                        np.flatnonzero(~finite)[:8].tolist())
            x = np.where(finite, x, 0.0)
        return x

    def _parse_arms(self, arms: Any) -> tuple[Arm, ...]:
        """parse_arms, reusing the last result when the same descriptors are offered again (the usual case)."""
        try:
            key = tuple((a["name"], a.get("kind"), a.get("cost")) if type(a) is dict else a for a in arms)
        except (TypeError, KeyError, AttributeError):
            key = None  # not plain data: parse_arms reports what is wrong
        if key is not None and key == self._arms_key:
            return self._arms_parsed
        parsed = parse_arms(arms, self.safe_arm)
        self._arms_key, self._arms_parsed = key, parsed
        return parsed

    def _checked_batch(self, decisions: Decision | Sequence[Decision],
                       rewards: Mapping[str, float] | Sequence[Mapping[str, float]],
                       ) -> tuple[Sequence[Decision], list[np.ndarray], list[dict]]:
        """An update's decisions (one may come alone), their contexts and their checked rewards; the
        whole batch validated before any of it is applied (PolicyError)."""
        if isinstance(decisions, Decision):
            decisions, rewards = [decisions], [rewards]  # type: ignore[list-item]
        if isinstance(rewards, Mapping) or len(decisions) != len(rewards):
            raise PolicyError(f"update needs one reward mapping per decision, got {len(decisions)} decisions "
                              f"and {type(rewards).__name__} rewards")
        contexts = [self._decision_context(d) for d in decisions]
        return decisions, contexts, self._checked_rewards(decisions, rewards)

    def _decision_context(self, decision: Any) -> np.ndarray:
        if not isinstance(decision, Decision):
            raise PolicyError(f"update needs Decision objects, got {type(decision).__name__}")
        x = np.asarray(decision.context, dtype=np.float64)
        if x.shape != (self.dim,) or not np.isfinite(x).all():
            raise PolicyError(f"decision context must be {self.dim} finite numbers, got shape {x.shape}")
        return x

    @staticmethod
    def _checked_rewards(decisions: Sequence[Decision], rewards: Sequence[Mapping[str, float]]) -> list[dict]:
        out = []
        for decision, given in zip(decisions, rewards):
            if not isinstance(given, Mapping):
                raise PolicyError(f"rewards must map arm names to numbers, got {given!r}")
            for arm, r in given.items():
                if arm not in decision.arms:
                    raise PolicyError(f"reward for arm {arm!r}, which decision {decision.arms} did not choose")
                if isinstance(r, bool) or not isinstance(r, (int, float)) or not math.isfinite(r):
                    raise PolicyError(f"reward of arm {arm!r} must be a finite number, got {r!r}")
            out.append({arm: float(r) for arm, r in given.items()})
        return out

    def _sync(self, offered: tuple[Arm, ...]) -> None:
        """Storage follows the offered arms, in their order: fresh priors for new arms, drop the rest."""
        names = tuple(a.name for a in offered)
        self._kinds = {a.name: a.kind for a in offered}
        if names == self._names:
            return
        old = {name: i for i, name in enumerate(self._names)}
        fresh = [name for name in names if name not in old]
        dropped = [name for name in self._names if name not in names]
        if fresh or dropped:
            log.info("%s: new arms %s (fresh prior), dropped arms %s", self.name, fresh, dropped)
        eye, zeros = self.ridge * np.eye(self.dim), np.zeros(self.dim)
        pick = lambda arr, name, default: arr[old[name]] if name in old else default  # noqa: E731
        self._A = np.array([pick(self._A, n, eye) for n in names])
        self._A_inv = np.array([pick(self._A_inv, n, np.eye(self.dim) / self.ridge) for n in names])
        self._b = np.array([pick(self._b, n, zeros) for n in names])
        self._theta = np.array([pick(self._theta, n, zeros) for n in names])
        self._n = np.array([pick(self._n, n, 0) for n in names], dtype=np.int64)
        self._names = names

    def _restore(self, state: Mapping[str, Any]) -> None:
        self._restore_common(state)
        arms = list(state["arms"])
        names = tuple(str(a["name"]) for a in arms)
        if len(set(names)) != len(names):
            raise ModelError(f"policy state lists an arm twice: {names}")
        d = self.dim
        self._A = _array(arms, "A", (len(arms), d, d))
        self._A_inv = _array(arms, "A_inv", (len(arms), d, d))
        self._b = _array(arms, "b", (len(arms), d))
        self._n = np.array([_int_param(f"arm {a['name']} n", a["n"], 0) for a in arms], dtype=np.int64)
        self._theta = np.einsum("kij,kj->ki", self._A_inv, self._b) if arms else np.empty((0, d))
        self._names = names
        self._kinds = {str(a["name"]): str(a.get("kind", "unknown")) for a in arms}

    def _restore_common(self, state: Mapping[str, Any]) -> None:
        """Restore what ``_common_state`` wrote (random generator and counters)."""
        rng = state["rng"]
        if rng["bit_generator"] != "PCG64":
            raise ModelError(f"policy state has an unknown random generator {rng['bit_generator']!r}")
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64", "state": {"state": int(rng["state"]), "inc": int(rng["inc"])},
            "has_uint32": int(rng["has_uint32"]), "uinteger": int(rng["uinteger"])}
        counters = state["counters"]
        self.updates_ = _int_param("counters.updates", counters["updates"], 0)
        self.nonfinite_contexts_ = _int_param("counters.nonfinite_contexts", counters["nonfinite_contexts"], 0)
        self.ignored_rewards_ = _int_param("counters.ignored_rewards", counters["ignored_rewards"], 0)


def _array(arms: list, key: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.array([a[key] for a in arms], dtype=np.float64) if arms else np.empty(shape)
    except (ValueError, TypeError):
        raise ModelError(f"policy state: arm field {key!r} is not an array of shape {shape[1:]}") from None
    if arr.shape != shape or not np.isfinite(arr).all():
        raise ModelError(f"policy state: arm field {key!r} must be finite numbers of shape {shape[1:]}")
    return arr


def _peek(state: Any, key: str) -> Any:
    return state.get(key) if isinstance(state, Mapping) else type(state).__name__


def _int_param(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _float_param(name: str, value: Any, low: float = -math.inf, high: float = math.inf,
                 open_low: bool = False) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or value < low or value > high or (open_low and value == low):
        bound = f"in ({low}, {high}]" if open_low else f"in [{low}, {high}]"
        raise ConfigError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)
