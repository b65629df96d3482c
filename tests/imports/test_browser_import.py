"""A secretary imports a hand-kept list in a real browser: upload, fix a wrongly guessed
column, see the problems, import only the valid rows."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

from tests.browser.fixtures import (
    CHROMIUM,
    CHROMIUM_ARGS,
    assert_clean_console,
    log_in,
    screenshot,
    serve,
)

pytestmark = [pytest.mark.browser, pytest.mark.no_transaction]

# "Ingreso" is both "income" and "joining" in Spanish: the guess (income) must be fixed.
SOCIOS = (
    "Lista de socios 2024;;;;;;;\r\n"
    ";;;;;;;\r\n"
    "Nombre;Apellidos;Sexo;Fecha de nacimiento;Cédula;Teléfono;Actividad;Ingreso\r\n"
    "Rosa;Quesada Mora;F;17/05/1980;0345674978;8888-1234;Agricultura;15/01/2020\r\n"
    "Pedro;Núñez;M;01.02.1975;0308901301;8777-5555;Pesca;2021-03-01\r\n"
    "Lucía;Vargas;F;31/02/1990;0302340645;;Agricultura;15/01/2020\r\n"
).encode("cp1252")


@pytest.fixture(scope="module")
def live_server():
    """The app over HTTP on a database of this folder's own (see tests/browser/fixtures.py)."""
    with serve("browser_imports") as server:
        yield server

def _in_a_browser(scenario) -> None:
    """Run the scenario with its own Chromium, in its own thread: Playwright's sync API
    cannot start twice in the thread where tests/browser's session browser may be open."""
    from playwright.sync_api import sync_playwright

    failure: list[BaseException] = []

    def run() -> None:
        try:
            with sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
                try:
                    context = chromium.new_context(viewport={"width": 1280, "height": 800},
                                                   locale="en-US")
                    context.set_default_timeout(10_000)
                    tab = context.new_page()
                    tab.console_messages, tab.console_errors, tab.page_errors = [], [], []

                    def on_console(message) -> None:
                        where = message.location.get("url", "")
                        tab.console_messages.append(f"{message.type}: {message.text}")
                        if message.type == "error" and not where.endswith("/favicon.ico"):
                            tab.console_errors.append(message.text)

                    tab.on("console", on_console)
                    tab.on("pageerror", lambda error: tab.page_errors.append(str(error)))
                    scenario(tab)
                    context.close()
                finally:
                    chromium.close()
        except BaseException as error:  # noqa: BLE001 - handed back to the test's thread
            failure.append(error)

    worker = threading.Thread(target=run, name="import-browser")
    worker.start()
    worker.join(timeout=180)
    assert not worker.is_alive(), "the browser scenario did not finish"
    if failure:
        raise failure[0]


def test_secretary_imports_a_spreadsheet(live_server):
    _in_a_browser(lambda page: _scenario(live_server, page))


def _scenario(live_server, page) -> None:
    log_in(page, live_server)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members",
                                                            exact=True).click()
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import members")).to_be_visible()
    page.get_by_label("Spreadsheet").set_input_files(
        {"name": "socios.csv", "mimeType": "text/csv", "buffer": SOCIOS})
    screenshot(page, "import-01-upload")
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("heading", name="Choose the columns")).to_be_visible()
    expect(page.get_by_label("Header row")).to_have_value("3")
    ingreso = page.get_by_label("H · Ingreso")
    expect(ingreso).to_have_value("declared_income")  # the wrong guess
    expect(page.get_by_label("D · Fecha de nacimiento")).to_have_value("date_of_birth")
    ingreso.select_option(label="Joined on")
    screenshot(page, "import-02-mapping")
    assert_clean_console(page)
    page.get_by_role("button", name="Check the rows").click()

    expect(page).to_have_url(re.compile(r"/imports/\d+$"))
    expect(page.locator("#count-read")).to_have_text("3")
    expect(page.locator("#count-refused")).to_have_text("1")
    problems = page.locator("table.import-problems tbody")
    expect(problems.get_by_role("row")).to_have_count(1)
    expect(problems).to_contain_text("D · Fecha de nacimiento")
    expect(problems).to_contain_text("is not a real date")
    screenshot(page, "import-03-preview")

    page.get_by_label("I understand, go ahead").check()
    page.get_by_role("button", name="Import the members").click()
    expect(page.get_by_role("status").first).to_contain_text("1 row(s) have problems")
    page.get_by_label("Import only the valid rows").check()
    page.get_by_label("I understand, go ahead").check()
    page.get_by_role("button", name="Import the members").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Import done: 2 created, 0 updated, 0 unchanged, 0 skipped, 1 refused.")
    expect(page.locator("#count-created")).to_have_text("2")
    screenshot(page, "import-04-done")
    assert_clean_console(page)

    page.get_by_role("link", name="Members", exact=True).first.click()
    page.get_by_role("searchbox", name="Search").fill("quesada mora")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.list tbody").get_by_role("row")).to_have_count(1)
    expect(page.locator("table.list tbody")).to_contain_text("Quesada Mora, Rosa")
