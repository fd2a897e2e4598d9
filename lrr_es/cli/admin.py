"""``lrr-es admin``: the admin panel (serve) and its users (add-user)."""
from __future__ import annotations

import ipaddress
import logging

import click

log = logging.getLogger(__name__)


@click.group("admin")
def admin_cmd() -> None:
    """The admin panel: see and steer what lrr-es learns, in a browser."""


@admin_cmd.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: admin.host in the config, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port to listen on (default: admin.port in the config, 8470).")
@click.pass_obj
def admin_serve(obj, host, port) -> None:
    """Run the admin panel until interrupted (log in with a user of admin.users)."""
    from werkzeug.serving import make_server

    from ..admin import create_app
    config = obj.config
    host, port = host or config.admin.host, port or config.admin.port
    if not config.admin.users:
        click.echo("no admin user is configured: create one with `lrr-es admin add-user NAME` and put the line it "
                   "prints in the configuration (admin.users) or in LRR_ADMIN__USERS; the panel refuses every login "
                   "until then", err=True)
    if not _loopback(host):
        click.echo(f"warning: listening on {host}, reachable from other machines; put it behind HTTPS", err=True)
    if config.admin.secret_key is None:
        click.echo("admin.secret_key is not set: logins last until the panel stops", err=True)
    server = make_server(host, port, create_app(config), threaded=True)
    click.echo(f"lrr-es admin panel at http://{host}:{port}/ (Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@admin_cmd.command("add-user")
@click.argument("name")
@click.password_option("--password", prompt="Password for the new user", help="The password (prompted, hidden).")
def admin_add_user(name, password) -> None:
    """Print the password hash of a new user NAME and how to configure it (nothing is stored by this command)."""
    from ..admin.auth import user_line
    if not name.strip() or len(name) > 100:
        raise click.BadParameter("a user name is 1 to 100 characters", param_hint="NAME")
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="--password")
    lines = user_line(name, password)
    click.echo("Add the user to the configuration file (lrr-es --config FILE, or $LRR_CONFIG):\n")
    click.echo(lines["yaml"])
    click.echo("\nor set the environment variable (it replaces admin.users of the file):\n")
    click.echo(lines["env"])


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


COMMANDS = [admin_cmd]
