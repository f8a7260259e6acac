"""The pages in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium)
against a real `mmkg serve` on a loopback port: no console errors, labels shown, links work,
and markup in a label shows as text."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from helpers import SCRIPT_LABEL
from realservers import serving

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[str]:
    """`mmkg serve` on the shipped data plus a label that is markup."""
    with serving(tmp_path_factory.mktemp("serve"), "--data", str(SCRIPT_LABEL)) as running:
        yield running.url


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are required (installed by .ci/run)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mmkg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver) -> list[str]:
    """Errors the page logged (read and cleared)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] in ("SEVERE", "ERROR")]


def open_page(driver, url: str) -> None:
    driver.get_log("browser")  # forget what earlier pages logged
    driver.get(url)


@pytest.mark.parametrize("path", [
    "/", "/doc/state/ua", "/doc/invocation/mm-2025-07-ua-pow", "/doc/person/veronika-bilkova",
    "/doc/category/torture-ill-treatment", "/.well-known/void", "/ontology",
])
def test_pages_load_without_console_errors(live_server, browser, path):
    open_page(browser, live_server + path)
    assert browser.find_element("tag name", "h1").text.strip()
    assert console_errors(browser) == []


def test_click_through_landing_invocation_state(live_server, browser):
    from selenium.webdriver.common.by import By

    open_page(browser, live_server + "/")
    title = browser.find_element(By.TAG_NAME, "h1").text
    assert "Moscow Mechanism" in title
    # The timeline is a picture with one link per invocation.
    svg_links = browser.find_elements(By.CSS_SELECTOR, "svg.timeline a")
    assert len(svg_links) >= 10
    link = browser.find_element(By.CSS_SELECTOR,
                                'table.invocations a[href="/doc/invocation/mm-2025-07-ua-pow"]')
    label = link.text
    link.click()
    assert browser.current_url.endswith("/doc/invocation/mm-2025-07-ua-pow")
    assert browser.find_element(By.TAG_NAME, "h1").text == label
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "https://w3id.org/mmkg/id/state/" not in body.replace(
        "Identifier: https://w3id.org/mmkg/id/invocation/mm-2025-07-ua-pow", "")
    state = browser.find_element(By.CSS_SELECTOR, '#invocation a[href="/doc/state/pl"]')
    assert state.text == "Poland"
    state.click()
    assert browser.current_url.endswith("/doc/state/pl")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Poland"
    joined = browser.find_elements(By.CSS_SELECTOR, "ul.joined a")
    assert any(a.get_attribute("href").endswith("/doc/invocation/mm-2025-07-ua-pow")
               for a in joined)
    wikidata = browser.find_element(By.CSS_SELECTOR, '#state a[href^="http://www.wikidata.org/"]')
    assert wikidata.get_attribute("href") == "http://www.wikidata.org/entity/Q36"
    assert console_errors(browser) == []


def test_a_label_with_markup_shows_as_text(live_server, browser):
    from selenium.webdriver.common.by import By

    open_page(browser, live_server + "/doc/source/test-script-label")
    heading = browser.find_element(By.TAG_NAME, "h1")
    assert heading.text == ("<script>window.__mmkgInjected = true</script>"
                            "<b>Escaped label</b> & more")
    assert heading.find_elements(By.TAG_NAME, "b") == []
    assert browser.execute_script("return window.__mmkgInjected === undefined")
    assert console_errors(browser) == []


def test_console_errors_are_seen(live_server, browser):
    # Guards the checks above: a 404 is logged as an error, so an empty log means something.
    open_page(browser, live_server + "/doc/state/zz")
    assert console_errors(browser)
