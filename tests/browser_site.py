"""One running Loket (`python -m local.run`, demo data) and one Chromium per
test session, for the browser tests (pytest_plugins in conftest.py).

The site is the same thing `make run` starts: moto in its own process, the
Stripe emulator, the edge serving the storefront and /api, the workers. Tests
that use it must not depend on running alone: they make their own buyers
(own browser contexts, own e-mail addresses) and read only what they made or
the demo data. Screenshots go to test-artifacts/ (kept by CI as artifacts).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Output:
    """Collects a process's output in a thread (so its pipe never fills) and
    lets a test wait until a line appears."""

    def __init__(self, process) -> None:
        self.lines: list[str] = []
        self.ended = False
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self.reader.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    def wait_for(self, text: str, timeout: float = 120) -> None:
        with self.changed:
            found = self.changed.wait_for(lambda: self.ended or any(text in line for line in self.lines), timeout)
            if not found or not any(text in line for line in self.lines):
                raise AssertionError(f"no '{text}' in the output:\n" + "".join(self.lines[-40:]))

    @property
    def text(self) -> str:
        self.reader.join(timeout=30)
        return "".join(self.lines)


class Site:
    def __init__(self, base: str, output: Output) -> None:
        self.base = base
        self.output = output

    def url(self, path: str) -> str:
        return self.base + (path if path.startswith("/") else "/" + path)

    def plain_events_of_two_venues(self) -> list[tuple[dict, dict, dict]]:
        """(event, its first sellable performance, its first price type) at two
        venues, sold without a waiting room: found in the catalogue as a buyer would."""
        import requests

        catalogue = requests.get(self.url("/catalogue/network.json"), timeout=10).json()
        chosen: dict[str, tuple[dict, dict, dict]] = {}
        for summary in catalogue["events"]:
            event = requests.get(self.url(summary["url"]), timeout=10).json()
            sellable = [p for p in event["performances"]
                        if not p.get("onsale") and p.get("availability") != "sold_out"]
            if event["venue"]["slug"] not in chosen and sellable and event.get("price_types"):
                chosen[event["venue"]["slug"]] = (event, sellable[0], event["price_types"][0])
            if len(chosen) == 2:
                return list(chosen.values())
        raise AssertionError("the demo has plain events at two venues")

    def staff_sign_in(self, page, username: str, path: str = "/staff/index.html") -> None:
        """In `page`: open the staff page `path`, which sends a signed-out user to
        the sign-in page, sign in as demo account `username` and land back on it."""
        from local.demo import DEMO_PASSWORD

        page.goto(self.url(path))
        page.wait_for_selector("#signin-form")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("#signin-button")
        page.wait_for_url(lambda url: "/staff/sign-in.html" not in url)
        page.wait_for_selector("#staff-header .staff-signout")

    def to_payment_page(self, page, name: str, email: str) -> list[tuple[dict, dict, dict]]:
        """In `page`: one ticket at each of two venues into the basket, check
        out as `name`/`email`, up to the Stripe emulator's page (its "#pay"
        button). Returns what was bought, as `plain_events_of_two_venues`."""
        chosen = self.plain_events_of_two_venues()
        for event, _, price_type in chosen:
            page.goto(self.url(f"/event.html?venue={event['venue']['slug']}&event={event['event_id']}"))
            page.wait_for_selector("#booking:not([hidden])")
            page.fill(f"#qty-{price_type['code']}", "1")
            page.click("#reserve")
            page.wait_for_selector("#confirmation:not([hidden])")
        page.goto(self.url("/basket.html"))
        page.wait_for_selector("#checkout-section:not([hidden])")
        page.fill("#buyer-name", name)
        page.fill("#buyer-email", email)
        page.click("#checkout")
        page.wait_for_selector("#pay")
        return chosen


@pytest.fixture(scope="session")
def site():
    """`make run`'s system on free ports, started once per test session (per xdist worker)."""
    port = free_port()
    env = {**os.environ, "MOTO_PORT": "0", "STRIPE_PORT": "0", "API_PORT": str(free_port()),
           "LOKET_DEMO_ONSALE_OPENS_IN": "3600", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "local.run", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = Output(process)
    try:
        output.wait_for("Loket is running", timeout=180)
        yield Site(f"http://127.0.0.1:{port}", output)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One real Chromium (Debian's, driven by Playwright) for the whole session;
    each test opens its own context (own cookies, storage, basket)."""
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("chromium")
    os.environ.setdefault("XDG_CONFIG_HOME", str(home / "config"))
    os.environ.setdefault("XDG_CACHE_HOME", str(home / "cache"))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts(request) -> Path:
    """Where this test's screenshots go."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
