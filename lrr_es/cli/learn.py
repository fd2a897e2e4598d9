"""``lrr-es learn``, ``lrr-es evaluate-policy`` and ``lrr-es train``: thin click commands over lrr_es.learn."""
from __future__ import annotations

import click


def _reward_options(f):
    f = click.option("--min-grade", type=float, default=1.0, show_default=True,
                     help="A document counts as engaged when its strongest action has at least this grade "
                          "(feedback.weights).")(f)
    f = click.option("--cost-weight", type=float, default=0.1, show_default=True, help="Reward cost per unit of arm cost.")(f)
    f = click.option("--unique-bonus", type=float, default=0.5, show_default=True,
                     help="Extra reward when only that arm found an engaged document.")(f)
    f = click.option("--credit", type=click.Choice(["auto", "found", "shared"]), default="auto", show_default=True,
                     help="Arm reward: 'found' (1 when the arm found an engaged document, plus the bonus), 'shared' "
                          "(each engaged document's credit split among the arms that found it: the rewards of a "
                          "search sum to the page's reward), 'auto' (shared for the vw policy, found otherwise).")(f)
    f = click.option("--until", default=None, metavar="ISO", help="Only decisions logged before this date.")(f)
    f = click.option("--since", default=None, metavar="ISO", help="Only decisions logged at or after this date.")(f)
    f = click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias).")(f)
    return f


@click.command("learn")
@_reward_options
@click.option("--settle", type=float, default=60.0, show_default=True,
              help="Leave decisions younger than this many seconds for a later run (feedback may still arrive).")
@click.option("--batch", type=click.IntRange(1), default=200, show_default=True, help="Decisions per policy update.")
@click.option("--dry-run", is_flag=True, help="Compute and print, publish nothing.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def learn_cmd(obj, alias, since, until, credit, unique_bonus, cost_weight, min_grade, settle, batch, dry_run,
              no_progress) -> None:
    """Update the bandit policy from logged decisions and feedback; publish the new version. Then judge
    the ranker on trial by its interleaving result and promote or retire it (`lrr-es models judge`)."""
    from ..bandit import RewardParams
    from ..learn import learn
    learn(obj.es(), obj.config, alias, since=since, until=until, batch=batch,
          rewards=RewardParams(unique_bonus=unique_bonus, cost_weight=cost_weight, credit=credit), min_grade=min_grade,
          settle_s=settle, dry_run=dry_run, progress=not no_progress, echo=click.echo)
    if not dry_run:  # the learner process also settles the ranker on trial (lrr_es.learn.interleaving)
        from ..learn.interleaving import settle_interleaving
        settle_interleaving(obj.es(), obj.config, alias, click.echo)


@click.command("evaluate-policy")
@_reward_options
@click.option("--policy", "candidate", type=click.Choice(["published", "thompson", "linucb", "epsilon_greedy", "vw"]),
              default="published", show_default=True,
              help="The candidate: the published policy, or a fresh policy of that kind (config seed).")
@click.pass_obj
def evaluate_policy_cmd(obj, alias, since, until, credit, unique_bonus, cost_weight, min_grade, candidate) -> None:
    """Off-policy value (IPS, SNIPS, DR) of a candidate policy on the logged bandit decisions."""
    from ..bandit import RewardParams
    from ..learn import evaluate_policy
    evaluate_policy(obj.es(), obj.config, alias, candidate, since=since, until=until,
                    rewards=RewardParams(unique_bonus=unique_bonus, cost_weight=cost_weight, credit=credit), min_grade=min_grade,
                    echo=click.echo)


@click.command("train")
@click.option("--index", "alias", default="music", show_default=True, help="Configured index (alias).")
@click.option("--since", default=None, metavar="ISO", help="Only searches logged at or after this date.")
@click.option("--until", default=None, metavar="ISO", help="Only searches logged before this date.")
@click.option("--holdout", type=click.FloatRange(0.01, 0.9), default=0.2, show_default=True,
              help="Share of query keys, and of the window's end in time, held out for evaluation.")
@click.option("--trees", type=click.IntRange(1, 5000), default=200, show_default=True, help="Boosting rounds.")
@click.option("--depth", type=click.IntRange(1, 16), default=6, show_default=True, help="Tree depth.")
@click.option("--no-ipw", is_flag=True, help="Do not correct for position bias (for comparison).")
@click.option("--no-promote", is_flag=True, help="Save the model as a candidate, never make it live.")
@click.option("--dry-run", is_flag=True, help="Train and evaluate, store nothing.")
@click.option("--work-dir", type=click.Path(file_okay=False, writable=True), default=None,
              help="Where the example rows and XGBoost's page cache wait during training (about 17 KB per "
                   "engaged search; default: a temporary directory, removed after).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def train_cmd(obj, alias, since, until, holdout, trees, depth, no_ipw, no_promote, dry_run, work_dir,
              no_progress) -> None:
    """Train a ranker from logged searches and feedback, judge it on a holdout, save it, promote it if better.

    Prints the position-bias estimate, NDCG@10 of the new model, the live one and RRF on the
    holdout (gains debiased by position), the top features, and what became of the new version.
    The logs are read a page at a time and the rows reach XGBoost in batches from disk, so memory
    stays bounded however many decisions the window holds.
    """
    from ..learn.ranker import report_lines, train
    obj.config.index(alias)
    report = train(obj.es(), obj.config, alias, since=since, until=until, holdout=holdout,
                   params={"n_estimators": trees, "max_depth": depth}, promote=not no_promote,
                   dry_run=dry_run, ipw=not no_ipw, progress=not no_progress, work_dir=work_dir, echo=click.echo)
    for line in report_lines(report):
        click.echo(line)


COMMANDS = [learn_cmd, evaluate_policy_cmd, train_cmd]
