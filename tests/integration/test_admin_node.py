"""The admin panel's views on a real node with a learned index, through Flask's test client: every page
renders what the logs and lrr-models hold, the debugger runs the engine's own search, Q2E edits,
promotions and migrations go through the library and leave an audit record with the user."""
from __future__ import annotations

import re
import time

import pytest

from lrr_es import es as esio
from lrr_es.admin import create_app
from lrr_es.audit import recent_changes
from lrr_es.bandit.store import list_policies, load_policy, policy_info
from lrr_es.decide import PlanItem
from lrr_es.engine import LrrEngine
from lrr_es.feedback import editorial
from lrr_es.names import DECISIONS_INDEX
from lrr_es.rank.registry import list_models, live_model, promote

from .conftest import ADMIN_PASSWORD, ADMIN_USER, PASSED

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(es, learned_index):
    app = create_app(learned_index.config, es=es, settings={"TESTING": True})
    client = app.test_client()
    answer = client.post("/login", data={"name": ADMIN_USER, "password": ADMIN_PASSWORD, "csrf_token": _token(client, "/login")})
    assert answer.status_code == 302
    return client


def _token(client, path: str) -> str:
    return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _page(client, path: str, **args) -> str:
    answer = client.get(path, query_string=args)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    return answer.get_data(as_text=True)


def test_every_page_renders_and_every_chart_is_an_svg(client, learned_index):
    name = learned_index.name
    pages = {"/": "Overview of", "/debugger/": "Query debugger", "/q2e/": "Q2E memory of", "/models/": "Rankers of",
             "/bandit/": "Bandit of", "/migrations/": "Migrations of", "/strategies/": "Strategies of",
             "/feedback/": "Feedback of"}
    charts = set()
    for path, title in pages.items():
        html = _page(client, path, index=name)
        assert f"{title}" in html
        charts.update(re.findall(r'<img class="chart"[^>]* src="([^"]+)"', html))
    assert len(charts) >= 11
    for src in charts:
        answer = client.get(src.replace("&amp;", "&"))
        assert answer.status_code == 200 and answer.mimetype == "image/svg+xml", src
        assert b"<svg" in answer.data and b"no searches logged yet" not in answer.data, src


def test_the_overview_counts_the_logged_searches_and_names_the_live_versions(es, client, learned_index):
    html = _page(client, "/", index=learned_index.name)
    logged = esio.count(es, DECISIONS_INDEX, {"term": {"index": learned_index.name}})
    assert logged == learned_index.searches
    assert re.search(rf'Searches logged</span><span class="value">{logged}<', html)
    live = live_model(es, learned_index.name)
    assert f"v{live.version}" in html and "lrr-decisions" in html and "lrr-audit" in html


def test_the_debugger_runs_a_typed_plan_and_shows_provenance_features_and_both_orders(client, learned_index):
    html = _page(client, "/debugger/", index=learned_index.name, q="love", plan="lexical:7")
    plan_table = html.split('<table class="plan">')[1].split("</table>")[0]
    assert "<td>lexical</td>" in plan_table and "memory" not in plan_table and "given" in plan_table
    pool = html.split('<table class="pool">')[1].split("</table>")[0]
    assert pool.count("<tr>") == 1 + 7  # header + the seven lexical candidates
    assert "lexical #1 (" in pool and "Ranking features of the first 7 candidates" in html
    policy_chosen = _page(client, "/debugger/", index=learned_index.name, q="love")
    assert "Every offered arm's propensity" in policy_chosen


def test_the_debugger_compares_two_plans_side_by_side(client, learned_index):
    html = _page(client, "/debugger/", index=learned_index.name, q="rock", plan="lexical:5", plan_b="fuzzy:5")
    assert 'class="runs side-by-side"' in html
    assert "Plan: lexical:5" in html and "Plan: fuzzy:5" in html


def test_typed_text_is_escaped_and_reaches_elasticsearch_as_data(client, learned_index):
    evil = '<script>alert(1)</script> "}}, {"script": {"source": "ctx._source.x = 1"}}'
    html = _page(client, "/debugger/", index=learned_index.name, q=evil)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    refused = client.get("/debugger/", query_string={"index": learned_index.name, "q": "love", "filters": "{not json"})
    assert refused.status_code == 400 and "filters is not valid JSON" in refused.get_data(as_text=True)
    assert client.get("/q2e/", query_string={"index": "no-such-index"}).status_code == 404


def test_a_pin_changes_the_next_search_and_is_audited_with_the_user(es, client, learned_index):
    name = learned_index.name
    engine = LrrEngine(es, learned_index.config, decisions=False)
    before = engine.search(name, "paradise collective", plan=[PlanItem("memory", 10)])
    lexical = engine.search(name, "paradise collective", plan=[PlanItem("lexical", 20)])
    remembered = [h.id for h in before.results[0].hits]  # (the browser test pins for another query)
    target = next(h.id for h in lexical.results[0].hits if h.id not in remembered)
    token = _token(client, f"/q2e/?index={name}&query=paradise+collective")
    answer = client.post("/q2e/edit", data={"csrf_token": token, "index": name, "op": "pin", "doc": target,
                                            "query": "Paradise  COLLECTIVE", "score": "5000"})
    assert answer.status_code == 302
    after = engine.search(name, "paradise collective", plan=[PlanItem("memory", 10)])
    engine.close()
    found = [h.id for h in after.results[0].hits]
    assert target in found and target not in remembered  # the memory strategy now finds it (it did not before)
    [entry] = [e for e in editorial.show_doc(es, name, target) if e.key == "collective_paradise"]
    assert entry.pinned and entry.score == 5000.0
    change = recent_changes(es, name, 1)[0]
    assert (change.user, change.via, change.action, change.target, change.result) == (
        ADMIN_USER, "admin", "q2e.pin", f"{target} collective_paradise", "updated")
    html = _page(client, "/q2e/", index=name, query="paradise collective")
    assert "pinned" in html and f"<code>{target} collective_paradise</code>" in html.split("Audit trail")[1]


def test_promote_from_the_page_makes_the_version_live_and_is_audited(es, client, learned_index):
    name = learned_index.name
    live = live_model(es, name)
    candidate = next(m for m in list_models(es, name) if m.status != "live")
    token = _token(client, f"/models/?index={name}")
    answer = client.post("/models/promote", data={"csrf_token": token, "index": name, "version": str(candidate.version)})
    assert answer.status_code == 302
    assert live_model(es, name).version == candidate.version
    assert recent_changes(es, name, 1)[0].action == "ranker.promote"
    html = _page(client, "/models/", index=name, version=candidate.version)
    assert "feature importance" in html
    promote(es, name, live.version)  # as it was for the other tests


def test_off_policy_evaluation_runs_from_the_page(client, learned_index):
    name = learned_index.name
    html = client.post("/bandit/evaluate", data={"csrf_token": _token(client, f"/bandit/?index={name}"), "index": name,
                                                 "candidate": "published"}).get_data(as_text=True)
    assert "<th>IPS</th>" in html and "Effective sample size" in html and "logged bandit decisions" in html


def test_migrations_show_the_dry_run_and_refuse_without_confirmation(es, client, learned_index):
    name = learned_index.name
    html = _page(client, "/migrations/", index=name)
    assert f"plan {name}: up-to-date" in html and f"{name}-v1" in html and "lrr-audit" in html
    token = _token(client, f"/migrations/?index={name}")
    refused = client.post("/migrations/rollback", data={"csrf_token": token, "index": name, "confirm": "yes"})
    assert refused.status_code == 400 and "not confirmed" in refused.get_data(as_text=True)
    assert esio.alias_targets(es, name) == [f"{name}-v1"]


def test_publish_and_rollback_of_a_policy_version_from_the_bandit_page_are_confirmed_and_audited(es, client, learned_index):
    name = learned_index.name
    assert [(p.version, p.status) for p in list_policies(es, name)] == [(2, "live"), (1, "stored")]
    html = _page(client, "/bandit/", index=name)
    assert 'value="publish-1"' in html and 'value="publish-2"' not in html and "serve v1 again" in html
    engine = LrrEngine(es, learned_index.config, refresh_s=0, decisions=False)
    v1, v2 = (p.policy for p in sorted(list_policies(es, name), key=lambda p: p.version))
    assert engine.search(name, "love", size=3).versions["policy"] == v2
    token = _token(client, f"/bandit/?index={name}")
    refused = client.post("/bandit/publish", data={"csrf_token": token, "index": name, "version": "1"})
    assert refused.status_code == 400 and "not confirmed" in refused.get_data(as_text=True)
    assert policy_info(es, name).version == 2
    answer = client.post("/bandit/publish", data={"csrf_token": token, "index": name, "version": "1", "confirm": "yes"})
    assert answer.status_code == 302 and policy_info(es, name).version == 1
    assert engine.search(name, "love", size=3).versions["policy"] == v1 == load_policy(es, name).version  # serving follows
    change = recent_changes(es, name, 1)[0]
    assert (change.user, change.via, change.action, change.target, change.result) == (
        ADMIN_USER, "admin", "policy.publish", "v1", f"v1 live ({v1})")
    answer = client.post("/bandit/rollback", data={"csrf_token": token, "index": name, "confirm": "yes"})
    assert answer.status_code == 302 and policy_info(es, name).version == 2
    assert engine.search(name, "love", size=3).versions["policy"] == v2
    engine.close()
    assert recent_changes(es, name, 1)[0].action == "policy.rollback"
    html = _page(client, "/bandit/", index=name)
    assert "policy.rollback" in html and "policy.publish" in html and "rolled back" in html
    missing = client.post("/bandit/publish", data={"csrf_token": token, "index": name, "version": "9", "confirm": "yes"})
    assert missing.status_code == 400 and "no stored policy version 9" in missing.get_data(as_text=True)


def test_training_from_the_models_page_runs_in_the_background_and_is_audited(es, client, learned_index):
    name = learned_index.name
    before = {m.version for m in list_models(es, name)}
    live = live_model(es, name).version
    token = _token(client, f"/models/?index={name}")
    refused = client.post("/models/train", data={"csrf_token": token, "index": name, "trees": "100000"})
    assert refused.status_code == 400 and "trees must be a whole number" in refused.get_data(as_text=True)
    answer = client.post("/models/train", data={"csrf_token": token, "index": name, "trees": "20"})  # promote unticked
    assert answer.status_code == 302
    deadline = time.monotonic() + 300
    while "Training running" in (html := _page(client, "/models/", index=name)):
        assert '<meta http-equiv="refresh"' in html  # the page reloads itself while it runs
        assert time.monotonic() < deadline, "the training from the page did not end in 5 minutes"
        time.sleep(1)
    assert "Training done" in html and "holdout NDCG@10" in html, html.split('class="job')[1][:2000]
    [new] = {m.version for m in list_models(es, name)} - before
    assert f"saved as version {new} (candidate)" in html and live_model(es, name).version == live
    change = recent_changes(es, name, 1)[0]
    assert (change.user, change.action, change.result, change.details) == (
        ADMIN_USER, "ranker.train", f"v{new} candidate", {"trees": 20, "promote": False})


def test_the_overview_charts_the_pass_throughs_by_reason(client, learned_index):
    html = _page(client, "/", index=learned_index.name)
    table = html.split('<table class="passthrough">')[1].split("</table>")[0]
    for reason, n in PASSED.items():
        assert f"<tr><td>{reason}</td><td><code>{learned_index.name}</code></td><td class=\"num\">{n}</td></tr>" in table
    chart = client.get("/chart/passthrough.svg", query_string={"index": learned_index.name}).get_data(as_text=True)
    assert all(reason in chart for reason in PASSED) and "no pass-through recorded" not in chart


def test_the_strategies_page_shows_each_strategys_median_took_and_timeouts(client, learned_index):
    html = _page(client, "/strategies/", index=learned_index.name)
    rows = html.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert rows and all(re.search(r'<td class="num">\d+ ms</td>', row) for row in rows)  # every strategy's took logged
    chart = client.get("/strategies/chart/latency.svg", query_string={"index": learned_index.name}).get_data(as_text=True)
    assert "median took of its sub-search" in chart and "lexical" in chart
