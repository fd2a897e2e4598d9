"""``lrr-es models``: the ranker registry in lrr-models (list, show, judge, promote, rollback), over
lrr_es.rank.registry and lrr_es.learn.interleaving; ``lrr-es policy``: the bandit policy versions (list,
publish, rollback), over lrr_es.bandit.store."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import click


@click.group("models")
def models_cmd() -> None:
    """Learned rankers stored in lrr-models: versions, status, metrics; promote and roll back."""


def _utc_minute(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def _alias_option(f):
    return click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias).")(f)


@models_cmd.command("list")
@_alias_option
@click.pass_obj
def models_list(obj, alias) -> None:
    """Print every stored ranker version of the index, newest first."""
    from ..rank.registry import list_models, on_trial
    obj.config.index(alias)
    models = list_models(obj.es(), alias)
    if not models:
        click.echo(f"no ranker stored for {alias}: serving ranks with RRF")
    for m in models:
        created = _utc_minute(m.created_at)
        status = "on trial" if on_trial(m) else m.status
        click.echo(f"v{m.version:<4} {status:<9} {created}  {m.feature_schema}  "
                   f"{json.dumps(dict(m.metrics), sort_keys=True)}")


@models_cmd.command("show")
@_alias_option
@click.argument("version", type=click.IntRange(1), required=False)
@click.option("--top", type=click.IntRange(1, 1000), default=15, show_default=True, help="Features to list.")
@click.pass_obj
def models_show(obj, alias, version, top) -> None:
    """One ranker (default: the live one): status, metrics, training window, interleaving result and
    feature importance. For the candidate on trial the interleaving is judged from the logs now."""
    from ..learn.interleaving import judge_interleaving
    from ..rank.interleave import summary
    from ..rank.registry import get_model, live_model, load_ranker, on_trial
    obj.config.index(alias)
    es = obj.es()
    info = get_model(es, alias, version) if version is not None else live_model(es, alias)
    if info is None:
        click.echo(f"no live ranker for {alias}: serving ranks with RRF (`lrr-es models list` shows the stored ones)")
        return
    ranker = load_ranker(es, alias, info.version)
    click.echo(f"{alias} ranker v{info.version}: {info.status}, feature schema {info.feature_schema}, "
               f"{len(ranker.feature_names_in_ or ())} features")
    click.echo(f"metrics: {json.dumps(dict(info.metrics), sort_keys=True)}")
    click.echo(f"training window: {json.dumps(dict(info.training_window), sort_keys=True, default=str)}")
    if on_trial(info):
        _, live, result = judge_interleaving(es, obj.config, alias, info.version)
        r = obj.config.ranker
        click.echo(f"on trial against {'RRF' if live == 'rrf' else f'v{live}'} (interleaved on "
                   f"{100 * r.interleave_share:g}% of the searches): {summary(result.to_dict(r.interleave_alpha, r.interleave_min))}")
    elif info.params.get("interleaving"):
        click.echo(f"interleaving (last judged): {summary(info.params['interleaving'])}")
    importance = ranker.importance_shares()
    click.echo(f"feature importance (share of total gain, top {min(top, len(importance))}):")
    for name, share in importance[:top]:
        click.echo(f"  {name:<28} {100 * share:5.1f}%")


@models_cmd.command("judge")
@_alias_option
@click.pass_obj
def models_judge(obj, alias) -> None:
    """Judge the candidate on trial from the interleaved searches, store the result with it, and
    promote it (significantly better) or retire it (significantly worse); `lrr-es train` does this first."""
    from ..learn.interleaving import settle_interleaving
    obj.config.index(alias)
    if settle_interleaving(obj.es(), obj.config, alias, click.echo) is None:
        click.echo(f"no ranker of {alias} on trial (`lrr-es train` puts one that beats the live one on its holdout on trial)")


@models_cmd.command("promote")
@_alias_option
@click.argument("version", type=click.IntRange(1))
@click.pass_obj
def models_promote(obj, alias, version) -> None:
    """Make VERSION the live ranker (the live one is retired); serving picks it up at its next refresh."""
    from ..rank.registry import promote
    obj.config.index(alias)
    info = promote(obj.es(), alias, version)
    click.echo(f"{alias}: ranker v{info.version} is live")


@models_cmd.command("rollback")
@_alias_option
@click.pass_obj
def models_rollback(obj, alias) -> None:
    """Retire the live ranker and make the one live before it live again."""
    from ..rank.registry import rollback
    obj.config.index(alias)
    info = rollback(obj.es(), alias)
    click.echo(f"{alias}: rolled back to ranker v{info.version}")


@click.group("policy")
def policy_cmd() -> None:
    """Bandit policy versions stored in lrr-models: list, publish one, roll back (recorded in lrr-audit)."""


@policy_cmd.command("list")
@_alias_option
@click.pass_obj
def policy_list(obj, alias) -> None:
    """Print every stored policy version of the index, newest first, the live one marked."""
    from ..bandit.store import list_policies
    obj.config.index(alias)
    policies = list_policies(obj.es(), alias)
    if not policies:
        click.echo(f"no policy stored for {alias}: searches run the cold-start plan (`lrr-es learn` publishes one)")
    for p in policies:
        created = _utc_minute(p.created_at)
        click.echo(f"v{p.version:<4} {p.status:<6} {created}  {p.policy:<22} "
                   f"decisions={p.metrics.get('decisions', '?')} engaged={p.metrics.get('engaged', '?')}")


def _describe(info) -> str:
    return f"v{info.version} live ({info.policy})"


@policy_cmd.command("publish")
@_alias_option
@click.argument("version", type=click.IntRange(1))
@click.pass_obj
def policy_publish(obj, alias, version) -> None:
    """Make stored VERSION the live policy (serving picks it up at its next refresh)."""
    from ..audit import audited
    from ..bandit.store import publish
    obj.config.index(alias)
    es = obj.es()
    info = audited(es, obj.actor, "policy.publish", alias, f"v{version}", {"version": version},
                   lambda: publish(es, alias, version), _describe)
    click.echo(f"{alias}: policy v{info.version} is live")


@policy_cmd.command("rollback")
@_alias_option
@click.pass_obj
def policy_rollback(obj, alias) -> None:
    """Make live again the policy version that was live before the current one."""
    from ..audit import audited
    from ..bandit.store import rollback
    obj.config.index(alias)
    es = obj.es()
    info = audited(es, obj.actor, "policy.rollback", alias, "live", {}, lambda: rollback(es, alias), _describe)
    click.echo(f"{alias}: rolled back to policy v{info.version}")


COMMANDS = [models_cmd, policy_cmd]
