"""Take the screenshots of the main pages shown in the README (docs/screenshots/), on a desktop
(1366 px wide) and a phone (390 px wide), with Debian's headless Chromium and Selenium.

    .venv/bin/python tools/screenshots.py            # starts `mmkg serve` on a free port
    .venv/bin/python tools/screenshots.py --url http://127.0.0.1:8080

Each picture is the first screen and a half of the page (the page's top: what a person meets
first), so the files stay small. The query page is shown with an example's results.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
FOLDER = REPOSITORY / "docs" / "screenshots"
SIZES = {"desktop": (1366, 1200), "phone": (390, 1300)}
PAGES = {
    "home": "/",
    "invocation": "/doc/invocation/mm-2025-07-ua-pow",
    "invocations": "/invocations",
    "state": "/doc/state/ua",
    "report": "/doc/report/mm-2025-07-ua-pow",
    "search": "/search?q=prisoners+of+war",
    "query": "/sparql",
    "wikidata": "/wikidata",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "mmkg.cli", "serve", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/favicon.ico", timeout=2).read()
            return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("mmkg serve did not start")


def browser() -> object:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="mmkg-shots-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (default: start `mmkg serve`)")
    args = parser.parse_args()
    process, url = (None, args.url.rstrip("/")) if args.url else start_server()
    driver = browser()
    FOLDER.mkdir(parents=True, exist_ok=True)
    try:
        for size, (width, height) in SIZES.items():
            driver.set_window_size(width, height)  # type: ignore[attr-defined]
            for name, path in PAGES.items():
                driver.get(url + path)  # type: ignore[attr-defined]
                if name == "query":
                    time.sleep(1)
                    driver.find_element(  # type: ignore[attr-defined]
                        "css selector", "#yasgui .yasqe_queryButton").click()
                time.sleep(2)
                target = FOLDER / f"{name}-{size}.png"
                driver.save_screenshot(str(target))  # type: ignore[attr-defined]
                print(target.relative_to(REPOSITORY))
    finally:
        driver.quit()  # type: ignore[attr-defined]
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    return 0


if __name__ == "__main__":
    os.chdir(REPOSITORY)
    sys.exit(main())
