"""The ``vw`` policy: Vowpal Wabbit's contextual bandit over whole plans (``--cb_explore_adf``).

Design. Each action is one feasible plan: a subset S of the non-safe arms whose costs fit the budget
beside the safe arm (``feasible_subsets``), with one quota level for every arm of S (the safe arm
always runs at the largest level, as in every policy). With 7 arms, a budget of 4 and the levels
20/50/100 that is 61 actions. A quota per arm instead of per plan would multiply the action set by
3^|S| (199 actions for the same arms), and VW's decision time grows with the number of actions
(about 6 ms at 200 against 1.5 ms at 60 on this machine), so the quota is the plan's depth: the
policy can still take 20 when 20 is enough.

Features. The shared example carries the context (namespace ``s``: ``c<i>:<value>`` for every
non-zero entry); each action carries ``arm_<name>`` and ``q<quota>_<name>`` for each of its arms,
``depth<quota>``, ``size<|S|>`` and its total cost (namespace ``a``). ``--interactions sa`` crosses
context and plan, so VW learns which arms are worth running for which queries; the first-order plan
features let it share what it learns between plans with the same arms.

Propensities. VW returns the PMF over the actions; the policy samples the served plan from it with
its own seeded generator, so the probability of the served plan (``Decision.plan_propensity``) is
exact, and so is each arm's inclusion propensity (the PMF mass of the plans holding the arm).

Reward. VW minimizes a cost per plan: the cost of the served plan is minus the sum of its arms'
rewards. With ``credit="shared"`` (what "auto" gives this policy, lrr_es.bandit.rewards) that sum is
the page's reward: ``hit`` when the user engaged, minus ``cost_weight`` times the plan's cost.
Learning from a logged decision offers the plans feasible for its arms and budget plus the logged
plan itself when it is not one of them (the cold-start plan runs every arm), labelled with its
probability: ``plan_propensity`` when logged, else the product of the arms' inclusion propensities
(an approximation for records written before plan propensities were logged).

Workspaces. A Workspace is not thread-safe and saves its model only to a file: each policy holds one
workspace, used under its own lock, created lazily on first use from the model bytes (written to a
temporary file and read with ``-i``), and dropped in a child process after ``fork`` so that every
serving worker builds its own. ``to_state`` saves the workspace (through a temporary file) only when
it learned since the last save; a policy that only serves never writes a file.
"""
from __future__ import annotations

import base64
import os
import re
import tempfile
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ModelError, PolicyError
from .decision import DEFAULT_QUOTAS, Arm, Decision, check_budget, check_quota_levels, feasible_subsets
from .policy import Policy, _float_param, _int_param

EXPLORATION = ("epsilon", "squarecb")
Plan = tuple[tuple[int, int], ...]  # ((arm index, quota), ...), safe arm first
_LIVE: "weakref.WeakSet[VowpalPolicy]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for policy in list(_LIVE):
        policy._forget_workspace()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class VowpalPolicy(Policy):
    """Vowpal Wabbit ``--cb_explore_adf`` over plans; see the module docstring.

    ``exploration`` is "epsilon" (``epsilon`` of the mass spread uniformly over the plans) or
    "squarecb" (SquareCB, ``gamma_scale`` sets how fast it concentrates); ``learning_rate`` and
    ``bits`` (feature hash size) go to VW. ``ridge`` and ``min_score`` of the base class are unused.
    """

    name: ClassVar[str] = "vw"
    extra_params: ClassVar[tuple[str, ...]] = ("exploration", "epsilon", "gamma_scale", "learning_rate", "bits")
    reward_credit: ClassVar[str] = "shared"

    def __init__(self, dim: int, exploration: str = "squarecb", epsilon: float = 0.05, gamma_scale: float = 10.0,
                 learning_rate: float = 0.5, bits: int = 18, **params: Any) -> None:
        super().__init__(dim, **params)
        if exploration not in EXPLORATION:
            raise PolicyError(f"vw exploration must be one of {', '.join(EXPLORATION)}, got {exploration!r}")
        self.exploration = exploration
        self.epsilon = _float_param("epsilon", epsilon, low=0.0, high=1.0)
        self.gamma_scale = _float_param("gamma_scale", gamma_scale, low=0.0, open_low=True)
        self.learning_rate = _float_param("learning_rate", learning_rate, low=0.0, open_low=True)
        self.bits = _int_param("bits", bits, 10)
        self._model: bytes | None = None  # the saved workspace; None before the first update
        self._ws: Any = None
        self._dirty = False  # the workspace learned since _model was saved
        self._lock = threading.Lock()
        self._plan_cache: dict[Any, tuple[list[Plan], list[str]]] = {}
        _LIVE.add(self)

    # ------------------------------------------------------------------ public API
    def select(self, context: Any, arms: Sequence[Arm | Mapping[str, Any]], budget: float = 4.0,
               quotas: Sequence[int] = DEFAULT_QUOTAS) -> Decision:
        """One plan for ``context`` (shape (d,)) sampled from VW's PMF with the policy's generator."""
        x = self._check_context(context)
        offered = self._parse_arms(arms)
        budget = check_budget(budget)
        levels = check_quota_levels(quotas)
        self._sync(offered)
        safe = self._names.index(self.safe_arm)
        plans, lines = self._actions(offered, safe, budget, levels)
        with self._lock:
            pmf = self._predict(x, lines)
        chosen = plans[_sample(pmf, self._rng.random())]
        inclusion = np.zeros(len(offered))
        for plan, p in zip(plans, pmf):
            for i, _ in plan:
                inclusion[i] += p
        inclusion[safe] = 1.0
        return Decision(
            arms=tuple(self._names[i] for i, _ in chosen), quotas=tuple(q for _, q in chosen),
            propensities=dict(zip(self._names, np.minimum(inclusion, 1.0).tolist())), context=tuple(x.tolist()),
            budget=budget, policy=self.name, policy_version=self.version, propensity_method="exact",
            costs={a.name: a.cost for a in offered}, plan_propensity=float(pmf[plans.index(chosen)]))

    def update(self, decisions: Decision | Sequence[Decision],
               rewards: Mapping[str, float] | Sequence[Mapping[str, float]]) -> "VowpalPolicy":
        """Learn from the plans served: each decision's cost is minus the sum of its arms' rewards."""
        decisions, contexts, checked = self._checked_batch(decisions, rewards)
        examples = [self._learning_example(x, d, self._plan_reward(r)) for x, d, r in zip(contexts, decisions, checked)]
        with self._lock:
            ws = self._workspace()
            for example in examples:
                ws.learn(example)
            self._dirty = self._dirty or bool(examples)
        if examples:
            self.updates_ += 1
        return self

    def to_state(self) -> dict[str, Any]:
        """Parameters, generator, counters, arms and the VW model (base64), JSON-ready."""
        with self._lock:
            if self._dirty:
                self._model, self._dirty = _save(self._ws), False
        model = None if self._model is None else base64.b64encode(self._model).decode("ascii")
        return {**self._common_state(), "model": model,
                "arms": [{"name": n, "kind": self._kinds.get(n, "unknown")} for n in self._names]}

    # ------------------------------------------------------------------ computation
    def _actions(self, offered: tuple[Arm, ...], safe: int, budget: float, levels: tuple[int, ...]
                 ) -> tuple[list[Plan], list[str]]:
        """The feasible plans and their VW action lines (cached per offer, budget and levels)."""
        key = (offered, budget, levels)
        cached = self._plan_cache.get(key)
        if cached is None:
            costs = [a.cost for a in offered]
            plans = [_plan(subset, safe, levels) for subset in feasible_subsets(costs, safe, budget)]
            plans = [p for group in plans for p in group]
            lines = [_action_line(p, offered, safe) for p in plans]
            if len(self._plan_cache) > 64:
                self._plan_cache.clear()
            cached = self._plan_cache[key] = (plans, lines)
        return cached

    def _predict(self, x: np.ndarray, lines: list[str]) -> np.ndarray:
        pmf = np.asarray(self._workspace().predict([_shared_line(x), *lines]), dtype=np.float64)
        if pmf.shape != (len(lines),) or not np.isfinite(pmf).all() or pmf.sum() <= 0:
            raise PolicyError(f"vw returned a PMF of shape {pmf.shape} for {len(lines)} plans")
        return pmf / pmf.sum()

    def _learning_example(self, x: np.ndarray, decision: Decision, reward: float) -> list[str]:
        """The shared line and one line per plan, the logged plan labelled ``0:<cost>:<probability>``."""
        offered = tuple(Arm(name, cost=cost) for name, cost in decision.costs.items())
        names = [a.name for a in offered]
        if self.safe_arm not in names or any(a not in names for a in decision.arms):
            raise PolicyError(f"decision arms {decision.arms} are not among its offered arms {names}")
        safe = names.index(self.safe_arm)
        plans, lines = self._actions(offered, safe, check_budget(decision.budget), DEFAULT_QUOTAS)
        logged: Plan = tuple((names.index(a), q) for a, q in zip(decision.arms, decision.quotas))
        label = f"0:{-reward:.6g}:{_logged_probability(decision):.6g} "
        at = next((j for j, p in enumerate(plans) if frozenset(p) == frozenset(logged)), None)
        if at is None:
            return [_shared_line(x), *lines, label + _action_line(logged, offered, safe)]
        return [_shared_line(x), *lines[:at], label + lines[at], *lines[at + 1:]]

    def _plan_reward(self, rewards: Mapping[str, float]) -> float:
        """The sum of the held arms' rewards; rewards of arms no longer offered are ignored and counted."""
        if not self._names:
            return float(sum(rewards.values()))
        held = set(self._names)
        dropped = [a for a in rewards if a not in held]
        self.ignored_rewards_ += len(dropped)
        return float(sum(r for a, r in rewards.items() if a in held))

    # ------------------------------------------------------------------ workspace and state
    def _workspace(self) -> Any:
        """This process's workspace, created on first use from the model bytes (call under the lock)."""
        if self._ws is None:
            self._ws = _open(self._model, self._arguments())
        return self._ws

    def _forget_workspace(self) -> None:
        """Drop the workspace and lock inherited through fork: the child builds its own from the bytes
        (saved first from the inherited copy when it learned since the last save)."""
        if self._dirty and self._ws is not None:
            self._model, self._dirty = _save(self._ws), False
        self._ws = None
        self._lock = threading.Lock()

    def _arguments(self) -> str:
        explore = (f"--epsilon {self.epsilon}" if self.exploration == "epsilon"
                   else f"--squarecb --gamma_scale {self.gamma_scale}")
        return (f"--cb_explore_adf {explore} --interactions sa -b {self.bits} -l {self.learning_rate} "
                f"--random_seed {self.seed} --quiet")

    def _sync(self, offered: tuple[Arm, ...]) -> None:
        """No per-arm state: VW sees arms only as features; remember the names and kinds offered."""
        self._names = tuple(a.name for a in offered)
        self._kinds = {a.name: a.kind for a in offered}

    def _restore(self, state: Mapping[str, Any]) -> None:
        self._restore_common(state)
        model = state["model"]
        try:
            self._model = None if model is None else base64.b64decode(model, validate=True)
        except (TypeError, ValueError):
            raise ModelError("vw policy state: model is not base64") from None
        arms = list(state["arms"])
        self._names = tuple(str(a["name"]) for a in arms)
        self._kinds = {str(a["name"]): str(a.get("kind", "unknown")) for a in arms}


def _plan(subset: tuple[int, ...], safe: int, levels: tuple[int, ...]) -> list[Plan]:
    top = levels[-1]
    if not subset:
        return [((safe, top),)]
    return [((safe, top), *((i, q) for i in subset)) for q in levels]


def _feature(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _action_line(plan: Plan, offered: tuple[Arm, ...], safe: int) -> str:
    others = [(i, q) for i, q in plan if i != safe]
    words = [f"arm_{_feature(offered[i].name)} q{q}_{_feature(offered[i].name)}" for i, q in others]
    words += sorted({f"depth{q}" for _, q in others}) + [f"size{len(others)}"]
    safe_quota = next((q for i, q in plan if i == safe), None)
    words.append(f"safe_q{safe_quota}")
    cost = sum(offered[i].cost for i, _ in others)
    return f"|a {' '.join(words)} cost:{cost:.4g}"


def _shared_line(x: np.ndarray) -> str:
    return "shared |s " + " ".join(f"c{i}:{v:.6g}" for i, v in enumerate(x.tolist()) if v != 0.0)


def _sample(pmf: np.ndarray, u: float) -> int:
    return min(int(np.searchsorted(np.cumsum(pmf), u * pmf.sum(), side="right")), len(pmf) - 1)


def _logged_probability(decision: Decision) -> float:
    if decision.plan_propensity is not None:
        return min(max(decision.plan_propensity, 1e-6), 1.0)
    chosen = set(decision.arms)
    p = 1.0
    for arm, q in decision.propensities.items():
        p *= q if arm in chosen else 1.0 - q
    return min(max(p, 1e-6), 1.0)


def _open(model: bytes | None, arguments: str) -> Any:
    """A workspace: a new one from ``arguments``, or the saved ``model`` read back through a file."""
    import vowpalwabbit
    if model is None:
        return vowpalwabbit.Workspace(arguments)
    fd, path = tempfile.mkstemp(prefix="lrr-vw-", suffix=".model")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(model)
        return vowpalwabbit.Workspace(f"-i {path} --quiet")
    except RuntimeError as exc:
        raise ModelError(f"vw policy: the stored model cannot be read ({exc})") from None
    finally:
        os.unlink(path)


def _save(ws: Any) -> bytes:
    """The workspace's model as bytes (VW writes models only to files)."""
    fd, path = tempfile.mkstemp(prefix="lrr-vw-", suffix=".model")
    os.close(fd)
    try:
        ws.save(path)
        with open(path, "rb") as saved:
            return saved.read()
    finally:
        os.unlink(path)
