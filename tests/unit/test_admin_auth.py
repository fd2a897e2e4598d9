"""The admin panel's gatekeeping with Flask's test client: every route needs a login, every POST a CSRF
token, users come only from the configuration (hashes, never a default password), cookies are HttpOnly
and SameSite. None of these requests reaches Elasticsearch (the gate stops them first)."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from werkzeug.security import check_password_hash, generate_password_hash

from lrr_es.admin import create_app
from lrr_es.cli import cli
from lrr_es.config import config_from_dict, load_config
from lrr_es.errors import ConfigError

PASSWORD = "correct horse battery"
PUBLIC = {"auth.login", "static"}


class NoElasticsearch:
    """Stands where the client would be: any use of it fails the test (the gate must stop requests first)."""

    def __getattr__(self, name):
        raise AssertionError(f"the request reached Elasticsearch ({name})")


@pytest.fixture
def app():
    config = config_from_dict({"admin": {"users": {"alice": generate_password_hash(PASSWORD)}}})
    return create_app(config, es=NoElasticsearch(), settings={"TESTING": True})


def _token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _login(client, password=PASSWORD, name="alice"):
    return client.post("/login", data={"name": name, "password": password, "csrf_token": _token(client)})


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in PUBLIC:
            yield rule, sorted(rule.methods - {"HEAD", "OPTIONS"})


def test_the_panel_has_the_areas_of_the_issue(app):
    blueprints = {rule.endpoint.split(".")[0] for rule, _ in _routes(app)}
    assert blueprints == {"auth", "overview", "strategies", "bandit", "models", "debugger",
                           "q2e", "migrations", "feedback"}


def test_every_route_but_login_and_the_stylesheet_needs_a_login(app):
    client = app.test_client()
    token = _token(client)
    checked = 0
    for rule, methods in _routes(app):
        for method in methods:
            data = {"csrf_token": token} if method == "POST" else None
            answer = client.open(rule.rule, method=method, data=data)
            assert answer.status_code == 302, (rule.rule, method, answer.status_code)
            assert answer.headers["Location"].startswith("/login?next="), (rule.rule, answer.headers["Location"])
            checked += 1
    assert checked >= 15


def test_a_post_without_a_csrf_token_is_refused_logged_in_or_not(app):
    client = app.test_client()
    post_rules = [rule.rule for rule, methods in _routes(app) if "POST" in methods]
    assert "/q2e/edit" in post_rules and "/models/promote" in post_rules
    for path in post_rules:
        assert client.post(path, data={"index": "music"}).status_code == 400
    assert _login(client).status_code == 302
    for path in post_rules:
        answer = client.post(path, data={"index": "music", "op": "pin", "doc": "d1", "query": "love"})
        assert answer.status_code == 400, path
        assert "CSRF" in answer.get_data(as_text=True)
    fresh = app.test_client()
    assert fresh.post("/login", data={"name": "alice", "password": PASSWORD}).status_code == 400  # no token: no login
    assert fresh.get("/").status_code == 302


def test_login_checks_the_hash_and_sets_a_strict_cookie(app):
    client = app.test_client()
    wrong = _login(client, "not it")
    assert wrong.status_code == 200 and "Unknown user or wrong password" in wrong.get_data(as_text=True)
    assert _login(client, PASSWORD, name="mallory").status_code == 200
    good = _login(client)
    assert good.status_code == 302 and good.headers["Location"] == "/"
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.post("/logout", data={"csrf_token": _token(client)}).status_code == 302
    assert client.get("/models/").status_code == 302  # logged out again


def test_after_login_only_a_local_path_is_followed(app):
    client = app.test_client()
    for target, expected in (("/q2e/?index=music", "/q2e/?index=music"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/")):
        answer = client.post(f"/login?next={target}", data={"name": "alice", "password": PASSWORD,
                                                             "csrf_token": _token(client)})
        assert answer.headers["Location"] == expected


def test_responses_forbid_scripts_and_framing(app):
    headers = app.test_client().get("/login").headers
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_without_users_every_login_is_refused_and_the_page_says_how_to_create_one():
    client = create_app(config_from_dict({}), es=NoElasticsearch(), settings={"TESTING": True}).test_client()
    page = client.get("/login")
    assert page.status_code == 503
    assert "lrr-es admin add-user NAME" in page.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_users_must_be_hashes_never_plain_passwords():
    with pytest.raises(ConfigError, match=r"admin.users.bob must be a password hash .*lrr-es admin add-user bob"):
        config_from_dict({"admin": {"users": {"bob": "hunter2hunter2"}}})
    with pytest.raises(ConfigError, match="admin.port must be an integer"):
        config_from_dict({"admin": {"port": 0}})
    assert config_from_dict({}).admin.host == "127.0.0.1"


def test_add_user_prints_a_hash_that_logs_in_through_the_env_variable():
    result = CliRunner().invoke(cli, ["admin", "add-user", "carol"], input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    env_line = next(line for line in result.output.splitlines() if line.startswith("LRR_ADMIN__USERS="))
    value = env_line.split("=", 1)[1].strip("'")
    config = load_config(env={"LRR_ADMIN__USERS": value})
    assert check_password_hash(config.admin.users["carol"], "s3cret-pass")
    assert "s3cret-pass" not in result.output
    short = CliRunner().invoke(cli, ["admin", "add-user", "dave"], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 8 characters" in short.output


def test_serve_help_names_the_loopback_default():
    result = CliRunner().invoke(cli, ["admin", "serve", "--help"])
    assert result.exit_code == 0 and "127.0.0.1" in result.output and "8470" in result.output


def test_the_eleventh_login_attempt_in_a_minute_is_refused_with_429(app):
    client = app.test_client()
    answers = [_login(client, password="wrong guess").status_code for _ in range(10)]
    assert answers == [200] * 10  # each a wrong password, answered with the form again
    refused = _login(client)  # even the right password: the address is over its limit
    assert refused.status_code == 429 and "Too many login attempts" in refused.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # the page itself is not limited, only the attempts
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "127.0.0.2"  # another address has its own count
    assert _login(other).status_code == 302


def test_the_login_limit_is_configurable_and_checked():
    config = config_from_dict({"admin": {"users": {"alice": generate_password_hash(PASSWORD)}, "login_limit": "2/minute"}})
    client = create_app(config, es=NoElasticsearch(), settings={"TESTING": True}).test_client()
    assert [_login(client, password="no").status_code for _ in range(3)] == [200, 200, 429]
    with pytest.raises(ConfigError, match="login_limit"):
        config_from_dict({"admin": {"login_limit": "ten a minute"}})
