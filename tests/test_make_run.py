"""The newcomer's path: `make run`, browse the catalogue from the bucket,
buy a ticket on the Stripe emulator's page, wait in the waiting room of the
demo's high-demand on-sale and get tickets from it, Ctrl-C. Real processes,
real ports, webhooks delivered by the emulator over HTTP."""

import os
import signal
import socket
import subprocess
import uuid
from datetime import datetime, timezone
from pathlib import Path

import requests
from browser_site import Output, free_port as _free_port

ROOT = Path(__file__).resolve().parents[1]
# The demo's high-demand performance goes on sale this many seconds after
# `make run` starts: long enough to join its pre-queue in the browser first.
ONSALE_OPENS_IN = 60


def _event_documents(base: str) -> list[dict]:
    catalogue = requests.get(base + "/catalogue/network.json", timeout=10).json()
    return [requests.get(f"{base}/{summary['url']}", timeout=10).json() for summary in catalogue["events"]]


def _onsale_performance(documents: list[dict]) -> tuple[dict, dict]:
    """The demo's high-demand performance, found as a buyer's browser would: in the catalogue."""
    found = [(event, p) for event in documents for p in event["performances"] if p.get("onsale")]
    assert found, "the demo has a performance with an on-sale in the catalogue"
    return found[0]


def _join_the_queue(browser, base: str, event: dict, performance: dict, tmp_path: Path):
    """A second buyer (own browser context: own basket and buyer session) opens
    the event page of the high-demand performance before its on-sale, goes to
    the waiting room, sees the countdown, asks for 2 tickets and joins the
    pre-queue. Returns the waiting page; it keeps polling on its own."""
    opens_at = datetime.fromisoformat(performance["onsale"]["opens_at"])
    assert (opens_at - datetime.now(timezone.utc)).total_seconds() > 3, "the on-sale has not opened yet"
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/event.html?venue={event['venue']['slug']}&event={event['event_id']}"
              f"&performance={performance['performance_id']}")
    page.click("#to-queue")  # no reserve button for a high-demand performance
    page.wait_for_url("**/queue.html?*")
    page.wait_for_selector("#countdown:visible")
    assert ":" in page.inner_text("#countdown")
    page.fill("#qty-normaal", "2")
    page.click("#join")
    page.wait_for_selector("#queue-state[data-state='queued']:has-text('voorwachtrij')")
    page.screenshot(path=str(tmp_path / "queue-prequeue.png"), full_page=True)
    return page


def _tickets_from_the_queue(page, event: dict, tmp_path: Path) -> None:
    """The line opens, the place is drawn, the worker reserves: the waiting page
    shows the reservation and the basket lists it."""
    page.wait_for_selector("#queue-result[data-result='held']", timeout=120_000)
    page.screenshot(path=str(tmp_path / "queue-held.png"), full_page=True)
    assert page.inner_text("#basket-count").strip() == "2"
    page.click("#queue-result #to-basket")
    page.wait_for_url("**/basket.html")
    page.wait_for_selector(".hold .countdown:has-text(':')")
    assert page.locator(".hold").count() == 1
    assert event["title"] in page.inner_text(".hold .hold-title")
    page.context.close()


def _buy_in_the_browser(browser, base: str, tmp_path: Path, plain_event: dict, onsale: tuple[dict, dict]) -> int:
    """Two buyers in one real Chromium. The first one joins the waiting room of
    the high-demand on-sale before it opens; while it waits, the second one goes
    catalogue, event, reserve, basket, cancels on the payment page and comes back
    (the reservation is still there), goes back with the browser's back button
    (still there), pays, tickets. Then the first one gets its tickets from the line.
    Both in the session's one Chromium (tests/browser_site.py), each its own context."""
    waiting = _join_the_queue(browser, base, *onsale, tmp_path)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(base + "/")
    page.locator(f"a[href*='event.html'][href*='event={plain_event['event_id']}']").click()
    page.wait_for_selector("#booking:not([hidden])")
    page.fill("#qty-normaal", "2")
    page.click("#reserve")
    page.wait_for_selector("#confirmation:not([hidden])")
    assert page.inner_text("#basket-count").strip() == "2"
    page.goto(base + "/basket.html")

    def to_payment_page():
        page.wait_for_selector("#checkout-section:not([hidden])")
        page.fill("#buyer-name", "Browser Koper")
        page.fill("#buyer-email", "browser@example.be")
        page.click("#checkout")
        page.wait_for_selector("#pay")  # the Stripe emulator's hosted page

    to_payment_page()
    page.click("#cancel")  # 'Annuleren': back to the basket
    page.wait_for_url("**/basket.html?cancelled=*")
    page.wait_for_selector("#cancelled:not([hidden])")
    page.wait_for_selector(".hold .countdown:has-text(':')")
    assert page.locator(".hold").count() == 1, "the reservation is still in the basket"
    to_payment_page()
    page.go_back()  # the browser's back button
    page.wait_for_url("**/basket.html*")
    page.wait_for_selector("#cancelled:not([hidden])")
    page.wait_for_selector(".hold .countdown:has-text(':')")
    assert page.locator(".hold").count() == 1
    to_payment_page()
    page.click("#pay")
    page.wait_for_url("**/order.html?basket=*")
    page.wait_for_selector(".ticket-code")
    page.screenshot(path=str(tmp_path / "order.png"), full_page=True)
    codes = page.locator(".ticket-code").count()
    _tickets_from_the_queue(waiting, onsale[0], tmp_path)
    context.close()
    return codes


def test_make_run_serves_the_catalogue_sells_a_ticket_and_stops_cleanly(tmp_path, browser):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": "0", "STRIPE_PORT": "0", "API_PORT": str(_free_port()),
           "LOKET_DEMO_ONSALE_OPENS_IN": str(ONSALE_OPENS_IN)}
    process = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    output = Output(process)
    try:
        output.wait_for("Loket is running")
        assert "Loket" in requests.get(base + "/", timeout=10).text
        catalogue = requests.get(base + "/catalogue/network.json", timeout=10).json()
        assert len(catalogue["venues"]) == 4 and len(catalogue["events"]) >= 8
        documents = _event_documents(base)
        onsale = _onsale_performance(documents)
        # The rest of the sale goes through POST /holds: an event without a high-demand performance.
        event = next(e for e in documents if not any(p.get("onsale") for p in e["performances"]))
        summary = {"venue": event["venue"]["slug"], "event_id": event["event_id"]}
        hold = requests.post(base + "/api/holds", timeout=30, headers={"Idempotency-Key": str(uuid.uuid4())}, json={
            "venue": summary["venue"], "event_id": summary["event_id"],
            "performance_id": event["performances"][0]["performance_id"],
            "tickets": [{"price_type": "normaal", "quantity": 1}]})
        assert hold.status_code == 201, hold.text
        checkout = requests.post(base + "/api/checkout", timeout=30,
                                 headers={"Idempotency-Key": str(uuid.uuid4()),
                                          "X-Buyer-Session": hold.headers["X-Buyer-Session"]},
                                 json={"holds": [{"venue": summary["venue"], "hold_id": hold.json()["hold_id"]}],
                                       "buyer": {"name": "Smoke Test", "email": "smoke@example.be"}}).json()
        page = requests.get(checkout["checkout_url"], timeout=10)
        assert page.status_code == 200 and "Betalen" in page.text
        paid = requests.post(checkout["checkout_url"] + "/complete", allow_redirects=False, timeout=30)
        assert paid.headers["Location"].startswith(f"{base}/order.html?basket={checkout['basket_id']}")
        output.wait_for(f'"basket_id":"{checkout["basket_id"]}","outcome":"paid"', timeout=30)  # the worker's log
        basket = requests.get(f"{base}/api/baskets/{checkout['basket_id']}", timeout=10,
                              headers={"X-Basket-Token": checkout["basket_token"]}).json()
        assert basket["status"] == "paid" and len(basket["orders"][0]["tickets"]) == 1
        assert _buy_in_the_browser(browser, base, tmp_path, event, onsale) == 2
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
    text = output.text
    # make re-raises the Ctrl-C it received after its child finished; what
    # matters is that Loket shut down by itself, without a traceback.
    assert process.returncode in (0, -signal.SIGINT), text[-3000:]
    assert "Loket: stopping" in text and "Traceback" not in text
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT, not listeners
        sock.bind(("127.0.0.1", port))  # the port is free again: nothing was left running
