"""Who may use the panel: users and password hashes from the configuration (``admin.users``).

There is no default user and no default password: with none configured the login page explains how
to create one (``lrr-es admin add-user NAME`` prints the hash to put in the configuration or in
``LRR_ADMIN__USERS``). Sessions are Flask-Login's; every route but the login page and the stylesheet
requires one (``require_login``, installed by the app factory).
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .services import panel

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Log in to use the lrr-es admin panel."
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})
# checked when the name is unknown, so that a wrong name costs as long as a wrong password
_DUMMY_HASH = generate_password_hash("not a password of anyone")


class User(UserMixin):
    """A configured user (the id is the name)."""

    def __init__(self, name: str) -> None:
        self.id = name


class LoginForm(FlaskForm):
    name = StringField("User", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


def user_line(name: str, password: str) -> dict[str, str]:
    """How to configure a user: the hash, the YAML lines and the environment variable (pure but salted)."""
    hashed = generate_password_hash(password)
    return {"hash": hashed, "yaml": f"admin:\n  users:\n    {json.dumps(name)}: {json.dumps(hashed)}",
            "env": f"LRR_ADMIN__USERS='{json.dumps({name: hashed})}'"}


def check_user(name: str, password: str) -> User | None:
    """The user when ``password`` matches the configured hash of ``name``."""
    hashed = panel().config.admin.users.get(name)
    ok = check_password_hash(hashed or _DUMMY_HASH, password)
    return User(name) if ok and hashed is not None else None


@login_manager.user_loader
def load_user(name: str) -> User | None:
    return User(name) if name in panel().config.admin.users else None  # a removed user is logged out


def require_login():
    """Before every request: anything but the public endpoints needs a logged-in user."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    return current_app.login_manager.unauthorized()


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host) is a place to go after login."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("overview.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    users = panel().config.admin.users
    if form.validate_on_submit():
        user = check_user(form.name.data, form.password.data)
        if user is not None:
            login_user(user)
            current_app.logger.info("admin: %s logged in from %s", user.id, request.remote_addr)
            return redirect(_safe_next(request.args.get("next")))
        current_app.logger.warning("admin: failed login for %r from %s", form.name.data[:100], request.remote_addr)
        flash("Unknown user or wrong password.", "error")
    return render_template("login.html", form=form, no_users=not users), (200 if users else 503)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("Logged out.", "info")
    return redirect(url_for("auth.login"))
