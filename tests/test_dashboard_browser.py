"""The queue dashboard in a real browser: headless Chromium against gunicorn and Redis.

The web process runs the Procfile's `web` command (on 127.0.0.1 and a free
port) with the Redis broker on a namespace of its own. A `fetch_campaign`
message is dead-lettered the way a worker does it (fetched, then nacked), no
worker running. Chromium (Debian's `chromium` and `chromium-driver`, never a
downloaded browser) then checks that /queues refuses a visitor without
credentials, logs in with credentials in the URL, finds the message in the
campaigns queue's failed tab and requeues it with the dashboard's own form
(its CSRF cookie and field pass through our basic-auth wrapper); Redis shows
the message back in the campaigns queue.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import dramatiq
import pytest
import redis
import requests
from dramatiq.brokers.redis import RedisBroker

from .servers import ROOT, flush_namespace, free_port, process_env, redis_namespace, stop_process, wait_until

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# As dramatiq-notes.md ("Browser tests of the dashboard") found them to work here.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
]
WAIT = 15  # seconds, for any one page or element
SCREENSHOT = ROOT / "build" / "dashboard-failed.png"

USER, PASSWORD = "ops", "s3cret-pässword"  # non-ASCII: the browser sends it UTF-8 encoded
QUEUE = "campaigns"


def procfile_web_command(port: int) -> list[str]:
    """The Procfile's `web` line with its defaults, bound to 127.0.0.1:port, run by this interpreter."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    command = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", line[len("web:"):])
    argv = shlex.split(command)
    assert argv[0] == "gunicorn" and "pipeline.web.app:create_app()" in argv, argv
    bind = argv.index("--bind")
    argv[bind + 1] = f"127.0.0.1:{port}"  # never 0.0.0.0 on a test machine
    return [sys.executable, "-m", "gunicorn", *argv[1:]]


@pytest.fixture
def namespace():
    env = redis_namespace()
    yield env
    flush_namespace(env)


@pytest.fixture
def web(namespace, tmp_path):
    """Base URL of gunicorn serving the web app, as a deployment runs it."""
    port = free_port()
    env = process_env(
        {
            **namespace,
            "DRAMATIQ_BROKER": "redis",
            "STORAGE": "local",
            "LOCAL_STORAGE_DIR": str(tmp_path / "storage"),
            "CAMPAIGN_SOURCE": "sample",
            "API_TOKEN": "browser-test-token",
            "QUEUE_USER": USER,
            "QUEUE_PASSWORD": PASSWORD,
            "SENTRY_DSN": "",
        }
    )
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        proc = subprocess.Popen(procfile_web_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:

        def up():
            if proc.poll() is not None:
                raise AssertionError("gunicorn exited:\n" + log.read_text())
            try:
                return requests.get(base + "/openapi.json", timeout=2).ok
            except (requests.ConnectionError, requests.Timeout):
                return False  # the master listens before its workers have loaded the app

        wait_until(up, timeout=30, what="gunicorn")
        yield base
    finally:
        stop_process(proc)
        # The web process must not trip over the requeue (Prometheus counts in workers only).
        assert "Unexpected failure" not in log.read_text()


@pytest.fixture
def broker(namespace):
    """The test's own RedisBroker on the web process's namespace (no middleware: nothing runs here)."""
    broker = RedisBroker(url=namespace["REDIS_URL"], namespace=namespace["QUEUE_PREFIX"], middleware=[])
    broker.declare_queue(QUEUE)
    yield broker
    broker.close()


@pytest.fixture
def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "install Debian's chromium and chromium-driver (scripts/services does)"
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)  # with the driver's path below, Selenium downloads nothing
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        # DevTools' network events: the status of a page the browser does not render (a 401 with a Basic challenge).
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            driver.set_page_load_timeout(WAIT)
            yield driver
        finally:
            driver.quit()


def dead_letter(broker: RedisBroker, job_id: str) -> dramatiq.Message:
    """A fetch_campaign message that failed for good, moved to the dead letters as a worker's RedisBroker does."""
    message = dramatiq.Message(
        queue_name=QUEUE,
        actor_name="fetch_campaign",
        args=(job_id,),
        kwargs={},
        options={"retries": 4},  # as Retries re-enqueued it last, MAX_RETRIES=4
    )
    enqueued = broker.enqueue(message)
    consumer = broker.consume(QUEUE, prefetch=1, timeout=1000)
    try:
        fetched = wait_until(lambda: next(consumer), timeout=10, interval=0, what="the message fetched")
        assert fetched.message_id == message.message_id
        consumer.nack(fetched)  # the dispatch script's "nack": acks set -> <queue>.XQ + <queue>.XQ.msgs
    finally:
        consumer.close()
    return enqueued


class PageLoads:
    """The page loads (documents) Chromium made, redirects included, in order: method, path, status, headers.

    Read from DevTools' network events: a page the browser does not render (a
    401 with a Basic challenge) or a redirect shows here with its status.
    """

    def __init__(self, driver):
        self.driver = driver
        self.methods: dict[str, str] = {}  # request id -> method; a redirect keeps its request's id
        self.seen: list[dict] = []

    def _add(self, request_id: str, response: dict) -> None:
        headers = {name.lower(): value for name, value in response["headers"].items()}
        path = urlsplit(response["url"]).path  # without the credentials a URL may carry
        self.seen.append({"method": self.methods.get(request_id), "path": path, "status": response["status"], "headers": headers})

    def poll(self) -> list[dict]:
        for entry in self.driver.get_log("performance"):  # each event is returned once
            event = json.loads(entry["message"])["message"]
            params = event["params"]
            if params.get("type") != "Document":
                continue
            if event["method"] == "Network.requestWillBeSent":
                if "redirectResponse" in params:
                    self._add(params["requestId"], params["redirectResponse"])
                self.methods[params["requestId"]] = params["request"]["method"]
            elif event["method"] == "Network.responseReceived":
                self._add(params["requestId"], params["response"])
        return self.seen

    def clear(self) -> None:
        self.poll()
        self.seen = []

    def of(self, path: str):
        """Wait condition: the loads of `path` seen so far, once there is one."""
        return lambda _driver: [load for load in self.poll() if load["path"] == path]


def test_the_dashboard_in_chromium_requeues_a_failed_message(web, broker, namespace, chromium):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    client = redis.Redis.from_url(namespace["REDIS_URL"])
    ns = namespace["QUEUE_PREFIX"]
    queue_key, msgs_key = f"{ns}:{QUEUE}", f"{ns}:{QUEUE}.msgs"
    xq_key, xq_msgs_key = f"{ns}:{QUEUE}.XQ", f"{ns}:{QUEUE}.XQ.msgs"

    job_id = str(uuid.uuid4())
    enqueued = dead_letter(broker, job_id)
    redis_id = enqueued.options["redis_message_id"]
    assert client.zscore(xq_key, redis_id) is not None and client.hexists(xq_msgs_key, redis_id)
    assert client.llen(queue_key) == 0 and client.hlen(msgs_key) == 0

    driver = chromium
    wait = WebDriverWait(driver, WAIT)
    port = web.rsplit(":", 1)[1]
    authed = f"http://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}@127.0.0.1:{port}"

    def at(path: str):
        """Wait condition: the browser shows `path` (its URL may still carry the credentials it logged in with)."""
        return lambda d: urlsplit(d.current_url).path == path

    def page_text() -> str:
        return driver.find_element(By.TAG_NAME, "body").text

    def job_details() -> dict[str, str]:
        """A message's page as {heading: value}, as written (the page's CSS upper-cases the headings)."""
        rows = driver.find_elements(By.XPATH, "//table//tr[th and td]")
        text = lambda e: " ".join(e.get_attribute("textContent").split())  # noqa: E731
        return {text(r.find_element(By.TAG_NAME, "th")): text(r.find_element(By.TAG_NAME, "td")) for r in rows}

    # (1) Without credentials the dashboard is refused: 401 with a Basic challenge, our JSON body, no queue.
    refused = requests.get(web + "/queues/", timeout=10)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic ")
    assert refused.json()["title"] == "Authentication required" and "campaigns" not in refused.text
    loads = PageLoads(driver)
    loads.clear()  # the events of the browser's start
    driver.get(web + "/queues/")
    # Headless Chromium answers a Basic challenge with an empty page (its login prompt is never shown).
    seen = wait.until(loads.of("/queues/"))
    assert [(r["method"], r["status"]) for r in seen] == [("GET", 401)], seen
    assert seen[0]["headers"]["www-authenticate"] == 'Basic realm="campaign-mail queues"'
    assert driver.current_url == web + "/queues/"
    assert "Dramatiq Dashboard" not in driver.title
    assert not driver.find_elements(By.CSS_SELECTOR, "a[href^='/queues/queues/']")
    assert "campaigns" not in driver.page_source and page_text() == ""

    # (2) Credentials in the URL log in; the project's queues are listed, campaigns with its failed message.
    driver.get(authed + "/queues/")
    wait.until(EC.title_contains("Dramatiq Dashboard"))
    for queue in ("campaigns", "letters"):
        link = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'a[href="/queues/queues/{queue}"]')))
        assert link.text == queue
    campaigns_row = driver.find_element(By.XPATH, '//tr[td/a[@href="/queues/queues/campaigns"]]')
    counts = [td.text for td in campaigns_row.find_elements(By.CSS_SELECTOR, "td.table__number")]
    assert counts == ["0", "0", "1"], counts  # jobs, delayed, failed

    # (3) The campaigns queue's failed tab lists the message: its actor, argument and Redis id.
    driver.find_element(By.CSS_SELECTOR, 'a[href="/queues/queues/campaigns"]').click()
    wait.until(EC.title_contains("campaigns"))
    driver.find_element(By.CSS_SELECTOR, 'a[href="/queues/queues/campaigns/failed"]').click()
    wait.until(at("/queues/queues/campaigns/failed"))
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".tabs__tab--active"), "FAILED (1)"))
    job_link = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'a[href="/queues/queues/campaigns/failed/{redis_id}"]')))
    assert job_link.text == f"fetch_campaign('{job_id}')"
    row = job_link.find_element(By.XPATH, "./ancestor::tr")
    assert row.find_element(By.CSS_SELECTOR, "td.table__number").text == "4"  # retries
    assert [b.text for b in row.find_elements(By.TAG_NAME, "button")] == ["REQUEUE", "DELETE"]
    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOT))

    # Its page gives the message's own id.
    job_link.click()
    wait.until(EC.title_contains(f"Job {redis_id}"))
    details = job_details()
    assert details["Canonical id"] == enqueued.message_id, details
    assert details["Redis id"] == redis_id
    assert details["Queue"] == "campaigns (campaigns.XQ)"
    assert details["Actor"] == "fetch_campaign"
    assert details["Args"] == repr(job_id)
    assert details["Retries"] == "4"
    driver.back()
    wait.until(at("/queues/queues/campaigns/failed"))

    # (4) Requeue: the form posts the CSRF field, the browser its cookie and its credentials.
    csrf = {c["name"]: c for c in driver.get_cookies()}.get("__dd_csrf")
    assert csrf is not None and csrf["httpOnly"], driver.get_cookies()
    requeue = wait.until(
        EC.element_to_be_clickable((By.XPATH, f'//form[input[@name="id" and @value="{redis_id}"]]//button[normalize-space()="Requeue"]'))
    )
    form = requeue.find_element(By.XPATH, "./ancestor::form")
    assert form.get_dom_attribute("action") == "/queues/requeue-message"
    assert form.find_element(By.NAME, "__dd_csrf").get_attribute("value") == csrf["value"]
    loads.clear()
    requeue.click()
    # Not 401 (the credentials went along), not 403 (the CSRF cookie matched the form's field), not 410: 302.
    posts = wait.until(loads.of("/queues/requeue-message"))
    assert [(p["method"], p["status"]) for p in posts] == [("POST", 302)], loads.seen
    post = posts[0]
    # The browser lands on the requeued message's page, in the standard tab (dramatiq-dashboard alone
    # would send it to the failed tab, where the message no longer is: see RequeueRedirect).
    wait.until(lambda d: urlsplit(d.current_url).path.startswith("/queues/queues/campaigns/standard/"))
    # In Redis: out of the dead letters, back in the campaigns queue (a new Redis id), retries reset.
    assert client.zscore(xq_key, redis_id) is None and not client.hexists(xq_msgs_key, redis_id)
    assert client.zcard(xq_key) == 0 and client.hlen(xq_msgs_key) == 0
    waiting = [i.decode() for i in client.lrange(queue_key, 0, -1)]
    assert len(waiting) == 1 and waiting[0] != redis_id, waiting
    new_redis_id = waiting[0]
    assert post["headers"]["location"] == f"/queues/queues/campaigns/standard/{new_redis_id}"
    requeued_message = dramatiq.Message.decode(client.hget(msgs_key, new_redis_id))
    assert requeued_message.message_id == enqueued.message_id and requeued_message.actor_name == "fetch_campaign"
    assert requeued_message.queue_name == QUEUE and list(requeued_message.args) == [job_id]
    assert requeued_message.options["retries"] == 0

    # Its page shows the same message, retries reset; the standard tab lists it, the failed tab is empty.
    wait.until(EC.title_contains(f"Job {new_redis_id}"))
    details = job_details()
    assert details["Canonical id"] == enqueued.message_id, details
    assert details["Queue"] == "campaigns (campaigns)"
    assert details["Retries"] == "0"
    driver.get(authed + "/queues/queues/campaigns")
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".tabs__tab--active"), "STANDARD (1)"))
    driver.find_element(By.CSS_SELECTOR, 'a[href="/queues/queues/campaigns/failed"]').click()
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".tabs__tab--active"), "FAILED (0)"))
    assert "There are no jobs in this queue." in page_text()
