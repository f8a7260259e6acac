"""The site in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium)
against a real `mmkg serve --workers 2` (gunicorn) on a loopback port: the three users' paths
of issue 10 by clicking only, on a desktop and on a phone, with no console errors and no
sideways scrolling; the query editor with a long query, downloads and errors; the plain form
with JavaScript off; and markup in a label shown as text."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import SCRIPT_LABEL
from realservers import serving

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
DESKTOP, PHONE = (1366, 900), (390, 844)
MAIN_PAGES = ["/", "/invocations", "/doc/invocation/mm-2025-07-ua-pow", "/doc/state/ua",
              "/doc/report/mm-2025-07-ua-pow", "/doc/person/veronika-bilkova",
              "/doc/category/torture-ill-treatment", "/states", "/reports", "/experts",
              "/categories", "/sources", "/search?q=prisoners+of+war", "/sparql",
              "/identifiers", "/wikidata", "/reconcile", "/corrections", "/.well-known/void",
              "/ontology"]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn with two workers (its request line is bounded, as in production) on the
    shipped data plus a label that is markup."""
    with serving(tmp_path_factory.mktemp("serve"), "--workers", "2", "--data",
                 str(SCRIPT_LABEL)) as running:
        yield running.url


def _chromium(javascript: bool = True) -> Any:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are required (installed by .ci/run)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mmkg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.profile_dir = profile
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = _chromium()
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(driver.profile_dir, ignore_errors=True)


def console_errors(driver: Any) -> list[str]:
    """Errors the page logged (read and cleared)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] in ("SEVERE", "ERROR")]


def open_page(driver: Any, url: str) -> None:
    driver.get_log("browser")  # forget what earlier pages logged
    driver.get(url)


def by(css: str) -> tuple[str, str]:
    return ("css selector", css)


def wait_for(condition: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = condition()
        except Exception:  # noqa: BLE001 - the page is still changing
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {condition}")
        time.sleep(0.2)


def no_sideways_scroll(driver: Any) -> None:
    width = driver.execute_script("return window.innerWidth")
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, f"{driver.current_url}: {scroll} px wide in a {width} px window"


def click_link(driver: Any, text: str, within: str = "body") -> None:
    """Click a link by its (partial) visible text: how a person moves on."""
    links = [a for a in driver.find_elements(*by(f"{within} a")) if text in a.text
             and a.is_displayed()]
    assert links, f"no visible link with {text!r} in {within} on {driver.current_url}"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", links[0])
    links[0].click()


def checked(driver: Any) -> None:
    """What every page a user meets must satisfy (waiting while the page is still loading: an
    element of the page being replaced goes stale)."""
    wait_for(lambda: driver.execute_script("return document.readyState") == "complete"
             and driver.find_element(*by("h1")).text.strip())
    no_sideways_scroll(driver)
    assert console_errors(driver) == []


def body_text(driver: Any) -> str:
    return driver.find_element(*by("body")).text


# --- every main page, desktop and phone ----------------------------------------------------

@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_main_pages_load_without_errors_or_sideways_scrolling(live_server, browser, size):
    browser.set_window_size(*size)
    for path in MAIN_PAGES:
        open_page(browser, live_server + path)
        checked(browser)


# Every text of our own that a page shows, against the background it sits on: the WCAG 2.1
# contrast ratio (4.5:1, 3:1 for large text). YASGUI's own styles and the SVG are left out.
CONTRAST = """
function channel(v) {
  v /= 255;
  return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}
function luminance(c) {
  return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
}
function rgba(text) { return text.match(/[\\d.]+/g).map(Number); }
function background(el) {
  for (; el; el = el.parentElement) {
    const c = rgba(getComputedStyle(el).backgroundColor);
    if (c.length < 4 || c[3] > 0) { return c.slice(0, 3); }
  }
  return [255, 255, 255];
}
const failing = [];
for (const el of document.querySelectorAll("body *")) {
  if (el.closest("#yasgui, svg, .ontology-doc, .skip")) { continue; }
  if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) { continue; }
  const style = getComputedStyle(el);
  if (style.visibility === "hidden" || !el.getClientRects().length) { continue; }
  const a = luminance(rgba(style.color)), b = luminance(background(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
  const needed = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
  if (ratio < needed) {
    failing.push([el.tagName, style.color, ratio.toFixed(2), el.textContent.trim().slice(0, 40)]);
  }
}
return failing.slice(0, 10);
"""


def test_text_meets_wcag_aa_contrast(live_server, browser):
    browser.set_window_size(*DESKTOP)
    for path in MAIN_PAGES:
        open_page(browser, live_server + path)
        assert browser.execute_script(CONTRAST) == [], path
    # The check sees a pale text when there is one.
    browser.execute_script("const p = document.createElement('p'); p.style.color = '#bbb';"
                           "p.textContent = 'pale'; document.querySelector('main').append(p);")
    assert [row[3] for row in browser.execute_script(CONTRAST)] == ["pale"]


# --- the journalist ------------------------------------------------------------------------

@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_journalist_finds_who_invoked_it_and_what_the_mission_found(live_server, browser,
                                                                     size):
    """"Who invoked it on Ukrainian POWs in July 2025, and what did the mission find?" """
    browser.set_window_size(*size)
    open_page(browser, live_server + "/")
    click_link(browser, "Invocations", "header.site nav")
    checked(browser)
    click_link(browser, "24 July 2025 (Ukrainian prisoners of war)", "table.invocations")
    checked(browser)
    assert browser.find_element(*by("#invoker-count")).text == "41 States"
    findings = browser.find_element(*by("#findings")).text
    assert "widespread and systematic torture" in findings
    assert "Torture and ill-treatment" in findings
    # Sources: numbered, folded until a reference is followed.
    reference = browser.find_element(*by("#findings sup.refs a"))
    reference.click()
    wait_for(lambda: browser.find_element(*by("#references details")).get_attribute("open"))
    assert browser.find_element(*by(reference.get_attribute("hash"))).is_displayed()
    click_link(browser, "report on Ukrainian prisoners of war", "#report")
    checked(browser)
    assert "/doc/report/mm-2025-07-ua-pow" in browser.current_url
    assert "Findings (" in body_text(browser)
    # The search box in the header.
    box = browser.find_element(*by("#site-search"))
    box.send_keys("prisoners of war")
    box.submit()
    wait_for(lambda: "/search?" in browser.current_url)  # submit() does not wait for the page
    checked(browser)
    click_link(browser, "Prisoners of war", "#kind-group")
    checked(browser)
    assert "Alleged violations (" in body_text(browser)


# --- the Wikidata editor -------------------------------------------------------------------

@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_wikidata_editor_reaches_every_tool_by_clicking(live_server, browser, size):
    browser.set_window_size(*size)
    open_page(browser, live_server + "/")
    click_link(browser, "Wikidata tools", "header.site nav")
    checked(browser)
    click_link(browser, "Identifiers", "main")
    checked(browser)
    assert "formatter URL" in body_text(browser)
    browser.back()
    click_link(browser, "Reconciliation service", "main")
    checked(browser)
    assert browser.find_element(*by("#service-url")).text.endswith("/reconcile")
    click_link(browser, "States", "header.site nav")
    checked(browser)
    click_link(browser, "Poland", "table.states")
    checked(browser)
    wikidata = browser.find_element(*by('.wikidata a[href^="http://www.wikidata.org/"]'))
    assert wikidata.get_attribute("href") == "http://www.wikidata.org/entity/Q36"
    click_link(browser, "Wikidata tools", ".wikidata")
    field = browser.find_element(*by("#qid"))
    field.send_keys("Q36")
    field.submit()
    wait_for(lambda: browser.current_url.endswith("/doc/state/pl"))
    checked(browser)
    assert browser.find_element(*by("h1")).text == "Poland"
    click_link(browser, "Wikidata tools", "header.site nav")
    field = wait_for(lambda: browser.find_element(*by("#qid")))
    field.send_keys("Q237")
    field.submit()
    wait_for(lambda: "/wikidata/Q237" in browser.current_url)
    assert "close match" in browser.find_element(*by("h1")).text
    click_link(browser, "Holy See", "main")
    wait_for(lambda: browser.current_url.endswith("/doc/state/va"))


# --- the SPARQL user -----------------------------------------------------------------------

def editor(driver: Any) -> Any:
    return wait_for(lambda: driver.find_element(*by("#yasgui .CodeMirror")))


def set_query(driver: Any, text: str) -> None:
    driver.execute_script("arguments[0].CodeMirror.setValue(arguments[1])", editor(driver),
                          text)


def run_query(driver: Any) -> None:
    driver.find_element(*by("#yasgui .yasqe_queryButton")).click()


def result_headers(driver: Any) -> list[str]:
    return [th.text.strip() for th in driver.find_elements(*by("#yasgui .yasr table thead th"))]


@pytest.fixture()
def downloads(browser: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    browser.execute_cdp_cmd("Page.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(folder)})
    return folder


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_sparql_user_runs_an_example_and_sorts_pages_of_results(live_server, browser, size):
    from selenium.webdriver.support.ui import Select

    browser.set_window_size(*size)
    open_page(browser, live_server + "/")
    click_link(browser, "Query", "header.site nav")
    editor(browser)
    checked(browser)
    Select(browser.find_element(*by("#example"))).select_by_value("05-invocations-per-year")
    wait_for(lambda: "Invocations per year" in browser.execute_script(
        "return document.querySelector('#yasgui .CodeMirror').CodeMirror.getValue()"))
    run_query(browser)
    rows = wait_for(lambda: browser.find_elements(*by("#yasgui .yasr table tbody tr")))
    assert len(rows) > 5
    # The menu stays on the example that ran; sorting a column reorders the rows.
    assert browser.find_element(*by("#example")).get_attribute("value") == \
        "05-invocations-per-year"
    first = rows[0].text
    header = browser.find_elements(*by("#yasgui .yasr table thead th"))[1]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", header)
    header.click()
    header.click()
    wait_for(lambda: browser.find_elements(*by("#yasgui .yasr table tbody tr"))[0].text
             != first)
    checked(browser)


def test_sparql_user_sends_a_long_query_to_gunicorn_and_downloads_the_result(
        live_server, browser, downloads):
    browser.set_window_size(*DESKTOP)
    open_page(browser, live_server + "/sparql")
    # 5,000 characters: longer than gunicorn's 4,094-byte request line would take by GET.
    query = ("# " + "the long comment of a long query " * 150 + "\n"
             "SELECT * WHERE { ?invocation a <https://w3id.org/mmkg/ontology#Invocation> ; "
             "<https://w3id.org/mmkg/ontology#date> ?date } ORDER BY ?date")
    assert len(query) > 5000
    set_query(browser, query)
    run_query(browser)
    wait_for(lambda: len(browser.find_elements(*by("#yasgui .yasr table tbody tr"))) > 10)
    assert result_headers(browser)[1:] == ["invocation", "date"]  # SELECT * as written
    assert console_errors(browser) == []
    browser.find_element(*by('#editor-downloads button[value="csv"]')).click()
    saved = wait_for(lambda: [p for p in downloads.iterdir() if p.suffix == ".csv"])
    assert [p.name for p in saved] == ["mmkg-results.csv"]
    assert saved[0].read_text(encoding="utf-8").splitlines()[0] == "invocation,date"
    # YASR's own button saves the table under the same name.
    saved[0].unlink()
    browser.find_element(*by("#yasgui .yasr_downloadIcon")).click()
    saved = wait_for(lambda: [p for p in downloads.iterdir() if p.suffix == ".csv"])
    assert [p.name for p in saved] == ["mmkg-results.csv"]


def test_sparql_user_sees_select_star_in_order_and_errors_as_sentences(live_server, browser):
    browser.set_window_size(*DESKTOP)
    open_page(browser, live_server + "/sparql")
    set_query(browser, "SELECT * WHERE { ?s ?p ?o } LIMIT 3")
    run_query(browser)
    wait_for(lambda: result_headers(browser)[1:] == ["s", "p", "o"])
    set_query(browser, "SELECT * WHERE {\n  ?s foo:bar ?o }")
    run_query(browser)
    error = wait_for(lambda: browser.find_element(*by("#yasgui .yasr .errorResult")).text)
    assert "line 2, column 6: the prefix foo: is not declared" in error
    assert "u{" not in error


def test_a_10000_row_result_is_shown_a_page_at_a_time(live_server, browser):
    browser.set_window_size(*DESKTOP)
    open_page(browser, live_server + "/sparql")
    set_query(browser, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    run_query(browser)
    wait_for(lambda: browser.find_element(*by("#editor-truncated")).is_displayed(), 60)
    wait_for(lambda: browser.find_elements(*by("#yasgui .yasr table tbody tr")))
    assert len(browser.find_elements(*by("#yasgui .yasr table tbody tr"))) <= 100
    assert browser.execute_script("return document.documentElement.scrollHeight") < 6000
    assert console_errors(browser) == []


def test_the_query_page_works_from_the_keyboard(live_server, browser):
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(*DESKTOP)
    open_page(browser, live_server + "/sparql")
    editor(browser).click()
    set_query(browser, "SELECT ?s WHERE { ?s a <https://w3id.org/mmkg/ontology#Report> }")
    active = browser.switch_to.active_element
    active.send_keys(Keys.CONTROL, Keys.ENTER)  # runs the query
    wait_for(lambda: len(browser.find_elements(*by("#yasgui .yasr table tbody tr"))) > 5)
    active = browser.switch_to.active_element
    active.send_keys(Keys.ESCAPE)  # leaves the editor
    browser.switch_to.active_element.send_keys(Keys.TAB)
    focused = browser.switch_to.active_element  # out of the text, on to the run button
    assert focused.tag_name == "button" and focused.get_attribute("aria-label") == "Run query"
    # The skip link is the first stop on every page.
    open_page(browser, live_server + "/")
    browser.find_element(*by("body")).send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Skip to content"


def test_the_plain_form_works_without_javascript(live_server):
    driver = _chromium(javascript=False)
    try:
        driver.set_window_size(*PHONE)
        driver.get(live_server + "/sparql")
        assert driver.find_element(*by("#query")).is_displayed()
        assert not driver.find_element(*by("#yasgui")).is_displayed()
        driver.find_element(*by("#run")).click()
        wait_for(lambda: driver.find_element(*by("#results")))
        assert "Rows 1–" in driver.find_element(*by("#row-count")).text
        no_sideways_scroll(driver)
    finally:
        driver.quit()
        shutil.rmtree(driver.profile_dir, ignore_errors=True)


# --- escaping, and the guard on these checks ----------------------------------------------

def test_a_label_with_markup_shows_as_text(live_server, browser):
    open_page(browser, live_server + "/doc/source/test-script-label")
    heading = browser.find_element(*by("h1"))
    assert heading.text == ("<script>window.__mmkgInjected = true</script>"
                            "<b>Escaped label</b> & more")
    assert heading.find_elements("tag name", "b") == []
    assert browser.execute_script("return window.__mmkgInjected === undefined")
    assert console_errors(browser) == []


def test_console_errors_are_seen(live_server, browser):
    # Guards the checks above: a 404 is logged as an error, so an empty log means something.
    open_page(browser, live_server + "/doc/state/zz")
    assert console_errors(browser)
    assert browser.find_element(*by("#error-message")).text  # a page for people, though
