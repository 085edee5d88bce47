"""Headless Chromium for the explorer: its browser test and the README's screenshot (Debian's ``chromium`` and
``chromium-driver`` through Selenium, a development dependency)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from anomalylab.errors import InputError

MODEL = "Bokeh.documents[0].get_model_by_name"


def chromium_driver(width: int = 1000, height: int = 2100):
    """A headless Chromium WebDriver that keeps the page's console log, or a clear error saying what to install."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        raise InputError("headless Chromium needs Debian's chromium and chromium-driver: "
                         "apt-get install chromium chromium-driver")
    try:
        from selenium import webdriver
    except ImportError as err:
        raise InputError("Selenium is missing: pip install -e '.[dev]' (or make env)") from err
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(driver))


def wait_for(browser, script: str, timeout: float = 20.0):
    """Poll ``script`` (JavaScript that returns a value) until it returns something truthy; return that."""
    end = time.time() + timeout
    while time.time() < end:
        value = browser.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"the page did not get there in {timeout:.0f} s: {script}")


def open_page(browser, page: Path) -> str:
    """Load the explorer page and wait until its first metrics are shown; returns them (the metrics' HTML)."""
    browser.get(Path(page).resolve().as_uri())
    return wait_for(browser, f"return window.Bokeh && Bokeh.documents.length && {MODEL}('metrics').text")


def screenshot(page: Path, out: Path, dataset: str | None = None, models: list[str] | None = None) -> Path:
    """A PNG of the page, after choosing ``dataset`` (an entry key such as ``nab/realKnownCause/nyc_taxi``) and
    ``models``."""
    browser = chromium_driver()
    try:
        open_page(browser, page)
        if dataset:
            browser.execute_script(f"{MODEL}('dataset').value = {dataset!r}")
        if models:
            browser.execute_script(f"{MODEL}('models').value = {list(models)!r}")
        time.sleep(1.0)  # let the canvas draw
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(out))
    finally:
        browser.quit()
    return Path(out)
