"""The admin panel (``lrr-es admin serve``): see and steer what lrr-es learns.

``create_app(config)`` builds the Flask app: one blueprint per area (overview, query debugger, Q2E
explorer, models, bandit, migrations, strategies, feedback), each a few thin views over the library functions the CLI
uses. Every route but the login page and the stylesheet needs a login (Flask-Login), every POST a
CSRF token (Flask-WTF), login attempts are rate-limited per remote address (Flask-Limiter,
``admin.login_limit``), session cookies are HttpOnly and SameSite=Lax, and every change is written
to the audit trail (lrr_es.audit) with the user who made it. Charts are matplotlib SVGs served by
the app; the panel loads nothing from elsewhere (no CDN), so it works without internet access.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any, Mapping

from flask import Flask, render_template
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect

from ..config import Config, load_config
from ..errors import EsUnavailableError, LrrError
from .services import Panel

csrf = CSRFProtect()
# what the browser may load: only this app's own styles and images; no script at all
CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


def create_app(config: Config | None = None, es: Any = None, settings: Mapping[str, Any] | None = None) -> Flask:
    """The panel for ``config`` (default: ``load_config()``); ``es`` a client to use (default: one to
    elasticsearch.url, made at the first request); ``settings`` override Flask's (tests)."""
    from . import auth, bandit, debugger, feedback, migrations, models, overview, q2e, strategies
    config = config if config is not None else load_config()
    app = Flask(__name__)
    app.config.update(
        # a random key per process when none is configured: sessions end with the process
        SECRET_KEY=config.admin.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    app.config.update(settings or {})
    app.extensions["lrr"] = Panel(config, es)
    csrf.init_app(app)
    auth.login_manager.init_app(app)
    app.before_request(auth.require_login)
    for module in (auth, overview, strategies, bandit, models, debugger, q2e, migrations, feedback):
        app.register_blueprint(module.bp)
    # one limiter (and its in-memory counts) per app: two apps in one process never share counts
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", headers_enabled=True)
    app.view_functions["auth.login"] = limiter.limit(config.admin.login_limit, methods=["POST"])(
        app.view_functions["auth.login"])
    app.context_processor(lambda: {"indices": list(config.indices)})
    app.add_template_filter(_utc, "utc")
    app.add_template_filter(_bytes, "bytes")
    app.after_request(_security_headers)
    app.register_error_handler(LrrError, _lrr_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(429, _too_many)
    return app


def _utc(epoch_ms: Any) -> str:
    """Epoch milliseconds as ``YYYY-MM-DD HH:MM:SS`` (UTC); anything else as it is."""
    try:
        return datetime.fromtimestamp(int(epoch_ms) / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return str(epoch_ms)


def _bytes(n: Any) -> str:
    try:
        size = float(n)
    except (TypeError, ValueError):
        return str(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _lrr_error(exc: LrrError):
    status = 503 if isinstance(exc, EsUnavailableError) else 400
    return render_template("error.html", title="lrr-es refused", message=str(exc)), status


def _too_many(exc):
    return render_template("error.html", title="Too many login attempts",
                           message=f"At most {exc.description} from one address. Wait, then try again."), 429


def _csrf_error(exc: CSRFError):
    return render_template("error.html", title="Refused: no valid CSRF token",
                           message=f"{exc.description} Reload the page and try again."), 400
