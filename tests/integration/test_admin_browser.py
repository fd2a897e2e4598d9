"""The admin panel end to end in a real headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
driven by selenium) against a live panel on port 8471 (werkzeug's server in a thread) on the real node
with a learned index: log in, every page and its charts, the debugger, a promotion, training a ranker
from the page, publishing and rolling back a policy version, a Q2E pin that changes the next search;
an unauthenticated request and a POST without a CSRF token are refused.

A screenshot of every page is saved under ``tmp/artifacts/admin/`` (not committed; the README's
``docs/img/admin-*.png`` are copies of these). The browser and its driver missing is a failure
(``scripts/bootstrap.sh`` installs them), never a skip.
"""
from __future__ import annotations

import base64
import http.client
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from lrr_es.admin import create_app
from lrr_es.bandit.store import policy_info
from lrr_es.rank.registry import list_models, live_model, promote

from .conftest import ADMIN_PASSWORD, ADMIN_USER

pytestmark = pytest.mark.integration
PANEL_PORT = 8471
ARTIFACTS = Path(__file__).resolve().parents[2] / "tmp" / "artifacts" / "admin"
WIDTH = 1360


@pytest.fixture(scope="module")
def panel_url(es, learned_index):
    server = make_server("127.0.0.1", PANEL_PORT, create_app(learned_index.config, es=es), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{PANEL_PORT}"
    server.shutdown()
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver_path, "Chromium and chromium-driver are needed: bash scripts/bootstrap.sh installs them"
    options = Options()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={WIDTH},1000", "--lang=en-US"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(5)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _shoot(driver, name: str) -> Path:
    """A PNG of the whole page, also below the window (Chromium's DevTools screenshot)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 8000), "scale": 1}})
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def _charts_drawn(driver) -> int:
    """How many charts the page shows; each must have loaded with a nonzero size."""
    images = driver.find_elements(By.CSS_SELECTOR, "img.chart")
    for img in images:
        loaded = driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img)
        assert loaded and loaded > 0, img.get_attribute("src")
        assert img.size["width"] > 0 and img.size["height"] > 0, img.get_attribute("src")
    return len(images)


def _login(driver, base: str, index: str) -> None:
    driver.get(f"{base}/models/?index={index}")
    assert "/login" in driver.current_url  # the page asked for needs a login
    _shoot(driver, "login")
    driver.find_element(By.NAME, "name").send_keys(ADMIN_USER)
    driver.find_element(By.NAME, "password").send_keys(ADMIN_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    # back where the user wanted to go, once the login's POST (a password hash check) has answered
    wanted = f"/models/?index={index}"
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith(wanted),
                                    message=f"the login did not lead to {wanted}")


def _flash(driver, expected: str) -> None:
    """Wait for the page a form's POST redirected to and its flash message.

    Right after a click the browser may still show the page the form was on (and its flash from
    the action before), which goes stale as the redirect loads; so wait for the new text."""
    WebDriverWait(driver, 30, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: expected in d.find_element(By.CSS_SELECTOR, "p.flash").text,
        message=f"no flash message saying {expected!r}")


def _request(base: str, method: str, path: str, body: str | None = None, cookie: str | None = None):
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    if cookie:
        headers["Cookie"] = f"session={cookie}"
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    return answer.status, answer.getheader("Location"), answer.read().decode("utf-8", "replace")


def _debug(driver, base: str, index: str, query: str, plan: str = "") -> None:
    driver.get(f"{base}/debugger/?index={index}")
    driver.find_element(By.NAME, "q").send_keys(query)
    if plan:
        driver.find_element(By.NAME, "plan").send_keys(plan)
    driver.find_element(By.CSS_SELECTOR, "form.wide button[type=submit]").click()
    assert driver.find_element(By.CSS_SELECTOR, "table.plan")


def _strategy_candidates(driver, strategy: str) -> list[str]:
    for block in driver.find_elements(By.CSS_SELECTOR, "section.run details"):
        summary = block.find_element(By.TAG_NAME, "summary").get_attribute("textContent")
        if summary.startswith(f"{strategy}:"):
            return [c.get_attribute("textContent") for c in block.find_elements(By.CSS_SELECTOR, "li code")]
    return []


def test_the_panel_in_a_browser(es, browser, panel_url, learned_index):
    name, base = learned_index.name, panel_url
    status, location, _ = _request(base, "GET", f"/?index={name}")
    assert status == 302 and location.startswith("/login")  # unauthenticated: sent to the login page
    _login(browser, base, name)

    # every page, its charts drawn, a screenshot of each
    pages = {"overview": f"/?index={name}", "q2e": f"/q2e/?index={name}&query=lonely+strangers",
             "models": f"/models/?index={name}", "bandit": f"/bandit/?index={name}",
             "migrations": f"/migrations/?index={name}", "strategies": f"/strategies/?index={name}",
             "feedback": f"/feedback/?index={name}"}
    charts = {}
    for page, path in pages.items():
        browser.get(base + path)
        assert browser.find_element(By.TAG_NAME, "h1").text
        charts[page] = _charts_drawn(browser)
        _shoot(browser, page)
    assert (charts["overview"], charts["models"], charts["bandit"], charts["strategies"], charts["feedback"]) == (5, 2, 2, 5, 1)

    # the query debugger, run from its form
    _debug(browser, base, name, "ruby holiday")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.pool tbody tr")
    assert len(rows) > 5 and browser.find_elements(By.CSS_SELECTOR, "table.features")
    _shoot(browser, "debugger")

    # promote the candidate ranker from the models page
    live = live_model(es, name)
    candidate = next(m for m in list_models(es, name) if m.status != "live")
    browser.get(f"{base}/models/?index={name}")
    browser.find_element(By.CSS_SELECTOR, f"button[value='promote-{candidate.version}']").click()
    _flash(browser, f"ranker v{candidate.version} is live")
    assert live_model(es, name).version == candidate.version
    _shoot(browser, "models-promoted")

    # train a ranker from the models page: the page follows the background job until it ends
    before = {m.version for m in list_models(es, name)}
    browser.get(f"{base}/models/?index={name}")
    form = browser.find_element(By.CSS_SELECTOR, "form.train")
    form.find_element(By.NAME, "trees").clear()
    form.find_element(By.NAME, "trees").send_keys("20")
    form.find_element(By.NAME, "promote").click()  # untick: keep the new version a candidate
    form.find_element(By.CSS_SELECTOR, "button[value=train]").click()
    _flash(browser, "training started (20 trees)")
    WebDriverWait(browser, 300, poll_frequency=1, ignored_exceptions=[StaleElementReferenceException]).until(
        # the page reloads itself every 3 s meanwhile
        lambda d: "Training done" in d.find_element(By.CSS_SELECTOR, "div.job").text,
        message="the training started from the page did not end")
    [new] = {m.version for m in list_models(es, name)} - before
    assert f"saved as version {new} (candidate)" in browser.find_element(By.CSS_SELECTOR, "div.job pre").text
    _shoot(browser, "models-trained")

    # publish an earlier policy version from the bandit page, then roll back to the one before
    live_policy = policy_info(es, name).version
    browser.get(f"{base}/bandit/?index={name}")
    row = browser.find_element(By.XPATH, "//table[@class='versions']/tbody/tr[td[1]='v1']")
    row.find_element(By.NAME, "confirm").click()
    row.find_element(By.CSS_SELECTOR, "button[value='publish-1']").click()
    _flash(browser, f"{name}: policy v1 is live")
    assert policy_info(es, name).version == 1
    live_row = browser.find_element(By.XPATH, "//table[@class='versions']/tbody/tr[td[1]='v1']")
    assert "live" in live_row.text
    assert _charts_drawn(browser) == 2
    _shoot(browser, "bandit-published")
    rollback = browser.find_element(By.CSS_SELECTOR, "form.rollback")
    rollback.find_element(By.NAME, "confirm").click()
    rollback.find_element(By.CSS_SELECTOR, "button[value=rollback]").click()
    _flash(browser, f"rolled back to policy v{live_policy}")
    assert policy_info(es, name).version == live_policy
    audit = browser.find_element(By.XPATH, "//h2[.='Policy versions']/following-sibling::table[2]/tbody").text
    assert "policy.rollback" in audit and "policy.publish" in audit and ADMIN_USER in audit
    _shoot(browser, "bandit")

    # pin a document for a query in the Q2E explorer: the next search's memory strategy finds it first
    _debug(browser, base, name, "lonely strangers", "memory:10, lexical:30")
    remembered, lexical = _strategy_candidates(browser, "memory"), _strategy_candidates(browser, "lexical")
    target = next(doc for doc in lexical if doc not in remembered[:1])
    browser.get(f"{base}/q2e/?index={name}&query=lonely+strangers")
    form = browser.find_element(By.CSS_SELECTOR, "form.pin-new")
    form.find_element(By.NAME, "doc").send_keys(target)
    form.find_element(By.NAME, "score").send_keys("60")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _flash(browser, f"pin of the key lonely_strangers on {target}: updated")
    audit = browser.find_element(By.XPATH, "//h2[starts-with(., 'Audit trail')]/following-sibling::table[1]/tbody/tr[1]")
    assert ADMIN_USER in audit.text and "q2e.pin" in audit.text
    _shoot(browser, "q2e-pinned")
    _debug(browser, base, name, "lonely strangers", "memory:10, lexical:30")
    assert _strategy_candidates(browser, "memory")[0] == target

    # a POST without a CSRF token is refused, even with the logged-in session
    session = browser.get_cookie("session")["value"]
    body = urllib.parse.urlencode({"index": name, "op": "remove", "doc": target, "query": "lonely strangers"})
    status, _, text = _request(base, "POST", "/q2e/edit", body, cookie=session)
    assert status == 400 and "CSRF" in text
    browser.get(f"{base}/q2e/?index={name}&query=lonely+strangers")
    assert "pinned" in browser.find_element(By.TAG_NAME, "table").text  # the pin is still there
    promote(es, name, live.version)  # as it was
