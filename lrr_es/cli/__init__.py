"""The ``lrr-es`` command line: thin click commands over importable functions.

Each module of this package defines its commands and lists them in ``COMMANDS``; the ``lrr-es``
group below adds every module's commands in one place (``MODULES``). A command reaches the
configuration and the client through ``obj``, the :class:`Context`.
"""
from __future__ import annotations

import logging
import sys

import click

from .. import __version__
from ..config import Config, load_config
from ..errors import LrrError
from . import admin, catalog, cluster, learn, models, q2e, resources, search, simulate

log = logging.getLogger("lrr_es")


class Context:
    """What every command gets as ``obj``: the configuration (loaded on first use) and a client."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        """The configuration of --config (or $LRR_CONFIG), loaded and validated on first use."""
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def actor(self):
        """Who makes a change from the command line (the audit trail's user): the operating-system user."""
        import getpass
        from ..audit import Actor
        return Actor(getpass.getuser(), "cli")

    def es(self):
        """A client of elasticsearch.url in the configuration (or $ES_URL)."""
        from ..es import connect
        return connect(self.config.elasticsearch.url, self.config.elasticsearch.timeout)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="LRR_CONFIG",
              help="YAML configuration file (default: built-in settings for one index 'music').")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.version_option(__version__, prog_name="lrr-es")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """lrr-es: learning to rank and retrieve on Elasticsearch.

    Every command talks to the cluster at elasticsearch.url in the config, or at $ES_URL.
    """
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose < 2:  # the client logs every expected 404 (a template or alias not there yet) as a warning
        for client_logger in ("elasticsearch", "elastic_transport"):  # 7.17, 8.x
            logging.getLogger(client_logger).setLevel(logging.ERROR)
    ctx.obj = Context(config_path)


MODULES = (cluster, catalog, resources, search, q2e, simulate, learn, models, admin)
for _module in MODULES:
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """The `lrr-es` console script: runs the group, prints an LrrError as one line and exits 1."""
    try:
        cli(standalone_mode=True)
    except LrrError as exc:
        click.echo(f"lrr-es: error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
