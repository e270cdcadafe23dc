#!/usr/bin/env python3
"""Checks keyhound's HTML report in a real browser: headless Chromium driven by Selenium.

Builds a git repository in a temporary directory with fake keys planted over several months
(one pair under the file name `<img src=x onerror=alert(1)>.env`, one committed and deleted
again, a dump of key IDs that makes the table longer than a page), runs
`keyhound git REPO -f html -o report.html --report json:report.json`, opens the page and checks:

  - no console message of level error or warning, and no alert;
  - no network request at all (the DevTools performance log lists every request the page made);
  - the table holds as many rows as the JSON report has findings, the first page 100 of them;
  - filtering by severity shows the rows of that severity, filtering by text the rows holding it;
  - the hostile file name is text in its row, and no <img> element exists;
  - the timeline SVG is drawn, and its table sums to the findings with a commit;
  - sorting by date puts the newest first; a click expands a row to its places;
then writes a screenshot (PNG).

With --measure N it instead plants N distinct key pairs, and reports the page's size and the
time the browser takes to load and first render it, and to filter, sort and page it.

Usage: test_html_report.py --keyhound BIN [--screenshot PNG] [--measure N]
Exits 1 on any failed check.
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

HOSTILE = "<img src=x onerror=alert(1)>.env"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Substrings a fake must not hold, so it cannot trip another rule's keyword.
KEYWORDS = ["akia", "asia", "abia", "acca", "a3t", "aida", "aroa", "agpa", "aipa", "anpa", "anva",
            "apka", "asca", "secret", "token", "iqojb3", "example", "bedrock", "amzn"]
# 2023-11-14T22:13:20Z, and about a month.
EPOCH = 1_700_000_000
MONTH = 30 * 86_400


def fail(message):
    sys.exit(f"test_html_report: FAIL: {message}")


def entropy(text):
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


class Fakes:
    """Fake credentials shaped like AWS's, from a seeded generator: the same every run."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def _clean(self, text):
        return not any(k in text.lower() for k in KEYWORDS)

    def key_id(self):
        while True:
            tail = "".join(self.rng.choice(BASE32) for _ in range(16))
            if self._clean(tail) and entropy("AKIA" + tail) >= 3.3:
                return "AKIA" + tail

    def secret(self):
        while True:
            s = "".join(self.rng.choice(BASE64) for _ in range(40))
            if (any(c.isupper() for c in s) and any(c.islower() for c in s)
                    and any(c.isdigit() for c in s) and self._clean(s) and entropy(s) >= 4.4):
                return s

    def pair(self):
        return f"AWS_ACCESS_KEY_ID={self.key_id()}\nAWS_SECRET_ACCESS_KEY={self.secret()}\n"


class Repo:
    """A git repository away from the user's and the system's configuration."""

    def __init__(self, path):
        self.path = path
        path.mkdir()
        empty = path.parent / "gitconfig"
        empty.write_text("")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self.env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(empty))
        self.git("init", "-q", "-b", "main")

    def git(self, *args, env=None):
        subprocess.run(["git", *args], cwd=self.path, check=True, env={**self.env, **(env or {})},
                       stdout=subprocess.DEVNULL)

    def write(self, name, text):
        (self.path / name).parent.mkdir(parents=True, exist_ok=True)
        (self.path / name).write_text(text)

    def commit(self, when, author, message):
        name, email = author
        stamp = f"@{when} +0000"
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, env={
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": stamp})


ADA = ("Ada Lovelace", "ada@example.org")
MALLORY = ("Mallory \"&\" O'Hara", "mallory@example.net")


def plant_checked(repo):
    """The history the checks read: eight months of commits, secrets added, moved and deleted."""
    fakes = Fakes(26)
    repo.write("README.md", "# planted\n")
    repo.commit(EPOCH, ADA, "start")
    repo.write(HOSTILE, fakes.pair())
    repo.commit(EPOCH + MONTH, MALLORY, "add <b>settings</b>")
    repo.write("deploy/prod.env", fakes.pair())
    repo.write("deploy/staging.env", fakes.pair())
    repo.commit(EPOCH + 2 * MONTH, ADA, "deploy")
    (repo.path / "deploy/staging.env").unlink()
    repo.commit(EPOCH + 3 * MONTH, ADA, "drop staging")
    repo.write("ci/keys.csv", "".join(f"{fakes.key_id()},ci-{i}\n" for i in range(110)))
    repo.commit(EPOCH + 5 * MONTH, MALLORY, "ci users")
    repo.write("services/api.env", fakes.pair())
    repo.write("services/worker.env", fakes.pair())
    repo.commit(EPOCH + 7 * MONTH, ADA, "services")


def plant_many(repo, count):
    """`count` distinct key pairs over two years of commits, a hundred to a file."""
    fakes = Fakes(10_000)
    files = max(1, count // 100)
    commits = min(files, 48)
    for i in range(files):
        pairs = 100 if i < files - 1 else count - 100 * (files - 1)
        repo.write(f"svc{i % 40:02}/keys{i:04}.env", "".join(fakes.pair() for _ in range(pairs)))
        if (i + 1) % max(1, files // commits) == 0 or i == files - 1:
            repo.commit(EPOCH + (i * 24 * MONTH) // files, ADA, f"batch {i}")
            # Every third batch is deleted again: in history only.
            if i % 3 == 0:
                for old in repo.path.glob(f"svc*/keys{i:04}.env"):
                    old.unlink()
                repo.commit(EPOCH + (i * 24 * MONTH) // files + 60, ADA, f"drop batch {i}")


def report(keyhound, repo, out):
    """keyhound's HTML and JSON reports of the repository's history, from one run."""
    page, document = out / "report.html", out / "report.json"
    # Run beside the repository, so that the page names it as `planted`.
    run = subprocess.run([keyhound, "git", repo.path.name, "--no-progress", "-q", "-f", "html",
                          "-o", str(page), "--report", f"json:{document}"],
                         cwd=repo.path.parent, env=repo.env, capture_output=True, text=True)
    if run.returncode != 1:
        fail(f"keyhound git exited {run.returncode}, not 1 (secrets found):\n{run.stderr}")
    return page, json.loads(document.read_text())


def browser():
    options = Options()
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--window-size=1280,900",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='keyhound-chromium-')}"]:
        options.add_argument(flag)
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    # Records any alert the page would raise, before the page's own scripts run.
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
        "source": "window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"})
    return driver


def requests_made(driver, page_url):
    """Every URL the page asked for besides itself, from the DevTools performance log (which
    also holds what the browser's own pages, such as its new tab page, load)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            url = params["request"]["url"]
            if params.get("documentURL") == page_url and url != page_url:
                urls.append(url)
    return urls


def visible_rows(driver):
    """The text of each row on show, in the order shown."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#rows tr.f'))"
        ".filter(r => r.offsetParent !== null).map(r => r.textContent)")


def check(driver, page, findings):
    url = page.resolve().as_uri()
    driver.get(url)
    problems = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    if problems:
        fail(f"console messages: {problems}")
    try:
        fail(f"the page raised an alert: {driver.switch_to.alert.text}")
    except NoAlertPresentException:
        pass
    if driver.execute_script("return window.__alerts.length"):
        fail(f"alert() was called: {driver.execute_script('return window.__alerts')}")
    requests = requests_made(driver, url)
    if requests:
        fail(f"the page made network requests: {requests}")

    total = driver.execute_script("return document.querySelectorAll('#rows tr.f').length")
    if total != len(findings):
        fail(f"{total} rows, the JSON report has {len(findings)} findings")
    shown = visible_rows(driver)
    if len(shown) != min(100, total):
        fail(f"the first page shows {len(shown)} rows of {total}")

    by_severity = Counter(f["severity"] for f in findings)
    severity = Select(driver.find_element(By.ID, "f-s"))
    for level in ["critical", "high"]:
        severity.select_by_visible_text(level)
        if len(visible_rows(driver)) != min(100, by_severity[level]):
            fail(f"severity {level}: {len(visible_rows(driver))} rows, expected {by_severity[level]}")
    severity.select_by_index(0)
    by_confidence = Counter(f["confidence"] for f in findings)
    confidence = Select(driver.find_element(By.ID, "f-c"))
    for level in ["high", "medium"]:
        confidence.select_by_visible_text(level)
        if len(visible_rows(driver)) != min(100, by_confidence[level]):
            fail(f"confidence {level}: {len(visible_rows(driver))} rows, "
                 f"expected {by_confidence[level]}")
    confidence.select_by_index(0)
    rule = Select(driver.find_element(By.ID, "f-r"))
    rule.select_by_visible_text("aws-access-key-pair")
    pairs = sum(1 for f in findings if f["rule_id"] == "aws-access-key-pair")
    if len(visible_rows(driver)) != pairs:
        fail(f"rule aws-access-key-pair: {len(visible_rows(driver))} rows, expected {pairs}")
    rule.select_by_index(0)

    query = driver.find_element(By.ID, "q")
    for text in ["onerror", "services/"]:
        query.clear()
        query.send_keys(text)
        expected = sum(any(text in place["path"] for place in f["locations"]) for f in findings)
        rows = visible_rows(driver)
        if len(rows) != expected or not all(text in row for row in rows):
            fail(f"text {text!r}: {len(rows)} rows shown, expected {expected}")
    query.clear()
    query.send_keys("onerror")
    if not any(HOSTILE in row for row in visible_rows(driver)):
        fail("the hostile file name is not shown as text in its row")
    if driver.execute_script("return document.querySelectorAll('img').length"):
        fail("the hostile file name made an <img> element")
    query.clear()
    query.send_keys(" ")
    query.clear()
    driver.execute_script("document.getElementById('q').dispatchEvent(new Event('input'))")

    timeline = driver.execute_script("""
        const figure = Array.from(document.querySelectorAll('figure.chart')).find(
            f => f.querySelector('figcaption').textContent.startsWith('When the secrets were introduced'));
        if (!figure) return null;
        const cells = Array.from(figure.querySelectorAll('tbody tr')).map(
            r => Number(r.lastElementChild.textContent));
        return {bars: figure.querySelectorAll('svg rect.head, svg rect.past').length,
                total: cells.reduce((a, b) => a + b, 0), months: cells.length};""")
    dated = sum(1 for f in findings if any((p.get("git") or {}).get("commit") for p in f["locations"]))
    if not timeline or timeline["bars"] < 2 or timeline["total"] != dated:
        fail(f"timeline {timeline}, expected a total of {dated}")

    introduced = driver.find_element(By.CSS_SELECTOR, "#table th[data-col='5']")
    introduced.click()
    times = driver.execute_script(
        "return Array.from(document.querySelectorAll('#rows tr.f'))"
        ".filter(r => r.offsetParent !== null).map(r => Number(r.dataset.t))")
    if times != sorted(times, reverse=True):
        fail("sorting by date did not put the newest first")
    first = driver.find_element(By.CSS_SELECTOR, "#rows tr.f.on")
    first.click()
    opened = driver.execute_script(
        "const d = document.querySelector('#rows tr.f.open').nextElementSibling;"
        "return d.offsetParent !== null && d.querySelector('details').open ? d.textContent : null")
    if not opened or "place" not in opened:
        fail("a click on a row did not expand it")
    driver.find_element(By.ID, "next").click()
    if len(visible_rows(driver)) != total - 100:
        fail(f"the second page shows {len(visible_rows(driver))} rows, expected {total - 100}")
    driver.find_element(By.ID, "prev").click()
    print(f"test_html_report: ok: {total} rows, filters, sorting, paging, timeline of "
          f"{timeline['months']} months, no request, no console message")


def measure(driver, page, findings):
    url = page.resolve().as_uri()
    started = time.monotonic()
    driver.get(url)
    loaded = time.monotonic() - started
    timing = driver.execute_script("""
        const nav = performance.getEntriesByType('navigation')[0];
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        return {load: nav.loadEventEnd, paint: paint ? paint.startTime : null};""")

    def timed(script):
        """Milliseconds from running `script` to the next frame after the page's status line
        changed: the table redrawn."""
        return driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const started = performance.now();
            const observer = new MutationObserver(() => {
                observer.disconnect();
                requestAnimationFrame(() => done(performance.now() - started));
            });
            observer.observe(document.getElementById('status'),
                             {childList: true, characterData: true, subtree: true});
            """ + script)

    sort = timed("document.querySelector(\"#table th[data-col='4']\").click();")
    page_next = timed("document.getElementById('next').click();")
    # The text filter waits 150 ms for typing to pause on a long table: counted here.
    text = timed("const q = document.getElementById('q'); q.value = 'svc07/';"
                 "q.dispatchEvent(new Event('input'));")
    rows = driver.execute_script("return document.querySelectorAll('#rows tr.f').length")
    print(json.dumps({
        "findings": len(findings), "rows": rows, "bytes": page.stat().st_size,
        "load_event_ms": round(timing["load"]), "first_contentful_paint_ms": round(timing["paint"] or 0),
        "webdriver_get_s": round(loaded, 2), "text_filter_ms": round(text),
        "sort_ms": round(sort), "next_page_ms": round(page_next)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keyhound", required=True)
    parser.add_argument("--screenshot", default="target/html-report.png")
    parser.add_argument("--measure", type=int, metavar="N")
    parser.add_argument("--keep", metavar="DIR", help="write the reports into DIR, and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="keyhound-html-") as work:
        work = Path(work)
        out = Path(args.keep) if args.keep else work
        out.mkdir(parents=True, exist_ok=True)
        repo = Repo(work / "planted")
        if args.measure:
            plant_many(repo, args.measure)
        else:
            plant_checked(repo)
        page, document = report(str(Path(args.keyhound).resolve()), repo, out)
        driver = browser()
        try:
            if args.measure:
                measure(driver, page, document["findings"])
            else:
                check(driver, page, document["findings"])
                # The whole first screen, the charts and the first rows, one of them expanded.
                driver.set_window_size(1200, 1600)
                driver.get(page.resolve().as_uri())
                driver.execute_script("document.querySelector('#rows tr.f.on').click();")
                Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(args.screenshot)
                print(f"test_html_report: screenshot {args.screenshot}")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
