"""Local Stripe emulator for Loket.

A small in-memory HTTP server implementing the subset of the Stripe HTTP API
that Loket uses, reachable by the real ``stripe`` Python SDK, plus a hosted
checkout page (``/pay/{session_id}``) and signed webhook delivery.

It is as strict as Stripe where Loket depends on it: an idempotency key reused
with other parameters, a Checkout total under the minimum charge amount, an
``expires_at`` outside 30 minutes..24 hours, a transfer to an account without
an active ``transfers`` capability or beyond what is left of its source charge
are all refused with Stripe's status, error type, code and wording. Delayed
bank payments complete a session unpaid and settle later (``settle_async``).

API requests (``/v1/``) can fail the way Stripe does at its worst: 500
``api_error``, 429 ``rate_limit``, or a connection dropped before or after the
request was processed, at the rates ``local/faults.py`` gives (``LOKET_FAULTS``).
Each refusal and fault and its real-world source: docs/faults.md.

Only the Python standard library, the ``stripe`` package (for signing) and
``local.faults`` are used.  Run ``python -m local.stripe_emulator --help``
(from the project root) for the CLI.
"""

from __future__ import annotations

import argparse
import base64
import copy
import html
import json
import random
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local import faults

try:  # the stripe package is a dependency of Loket; fall back to hmac if absent
    from stripe import WebhookSignature as _WebhookSignature
except Exception:  # pragma: no cover
    _WebhookSignature = None

API_VERSION = "2025-01-27.acacia"
MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
# Stripe's minimum charge amounts (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts),
# in minor units, for the currencies the emulator knows; others are not checked.
MIN_CHARGE = {"eur": 50, "usd": 50, "gbp": 30, "chf": 50, "dkk": 250, "nok": 300, "sek": 300, "pln": 200}
_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£"}

# Faults injected on /v1/ API requests (never on the hosted /pay/ pages or
# /_emulator/ endpoints), each at the rate local/faults.py gives it.
FAULT_KINDS = ("stripe_error", "stripe_rate_limit", "stripe_timeout")
# Stripe's generic server error. No Stripe-Should-Retry header: stripe-python
# retries any 5xx by itself (up to max_network_retries), and the request was
# not processed nor stored under its idempotency key, so a retry runs afresh.
API_ERROR_BODY = {"error": {"type": "api_error", "message": (
    "An unknown error occurred while processing your request. (Injected by the Loket Stripe emulator: "
    "stripe_error; the request was not processed.)")}}
# Stripe's rate-limit answer (docs.stripe.com/rate-limits). Rate limiters run
# before the idempotency layer, so nothing is stored; the SDK does not retry a
# 429 that is not a lock_timeout, so the caller sees stripe.RateLimitError.
RATE_LIMIT_BODY = {"error": {
    "type": "invalid_request_error", "code": "rate_limit",
    "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
    "message": "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."}}


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #


def _rand_id(prefix: str, n: int = 24) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Return a ``Stripe-Signature`` header value for ``payload``."""
    if _WebhookSignature is not None:
        return _WebhookSignature.generate_signature_header(payload, secret, timestamp)
    import hashlib  # pragma: no cover
    import hmac  # pragma: no cover

    ts = int(time.time()) if timestamp is None else timestamp  # pragma: no cover
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256)  # pragma: no cover
    return f"t={ts},v1={mac.hexdigest()}"  # pragma: no cover


_KEY_RE = re.compile(r"\[([^\]]*)\]")


def parse_form(pairs: list[tuple[str, str]]) -> dict:
    """Turn Stripe-style bracketed form pairs into nested dicts/lists.

    ``line_items[0][price_data][currency]=eur`` ->
    ``{"line_items": [{"price_data": {"currency": "eur"}}]}``;
    ``expand[]=a`` appends to a list.
    """
    root: dict = {}
    for raw_key, value in pairs:
        m = re.match(r"^([^\[\]]+)((?:\[[^\]]*\])*)$", raw_key)
        if not m:
            root[raw_key] = value
            continue
        parts = [m.group(1)] + _KEY_RE.findall(m.group(2))
        node = root
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
        last = parts[-1]
        node[str(len(node)) if last == "" else last] = value
    return _listify(root)


def _listify(obj: Any) -> Any:
    if isinstance(obj, dict):
        conv = {k: _listify(v) for k, v in obj.items()}
        if conv and all(k.isdigit() for k in conv):
            return [conv[k] for k in sorted(conv, key=int)]
        return conv
    return obj


class StripeError(Exception):
    """An error answer. `saved` says whether Stripe would store it under the
    request's idempotency key: Stripe saves a result "only after the execution
    of an endpoint begins"; a request whose parameters fail validation is not
    saved, so a retry with the same key runs again (docs.stripe.com/idempotency)."""

    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, saved: bool = True):
        super().__init__(message)
        self.status = status
        self.saved = saved
        self.body = {"error": {"type": type_, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


def _missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param,
                       saved=False)


def _invalid(param: str, message: str) -> StripeError:
    return StripeError(400, message, code="parameter_invalid", param=param, saved=False)


def _idempotency_error(key: str) -> dict:
    return {"error": {"type": "idempotency_error", "message": (
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        f"Try using a key other than '{key}' if you meant to execute a different request.")}}


def _not_found(kind: str, oid: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{oid}'", code="resource_missing", param=param)


def _int(params: dict, name: str, *, required: bool = False, minimum: int | None = 0,
         label: str | None = None) -> int | None:
    label = label or name
    if name not in params or params[name] in ("", None):
        if required:
            raise _missing(label)
        return None
    try:
        val = int(params[name])
    except (TypeError, ValueError):
        raise _invalid(label, f"Invalid integer: {params[name]}")
    if minimum is not None and val < minimum:
        raise _invalid(label, f"This value must be greater than or equal to {minimum}.")
    return val


def _amount_of_rest(params: dict, rest: int, currency: str, nothing_left: StripeError, too_much: str) -> int:
    """A refund's or reversal's `amount`: all that is left without one, never more than that."""
    if rest <= 0:
        raise nothing_left
    amount = _int(params, "amount", minimum=1)
    if amount is None:
        return rest
    if amount > rest:
        raise _invalid("amount", too_much.format(amount=format_eur(amount, currency), rest=format_eur(rest, currency)))
    return amount


def _dict(params: dict, name: str) -> dict:
    val = params.get(name)
    if val in (None, ""):
        return {}
    if isinstance(val, list):  # e.g. metadata[0]=x was listified
        val = {str(i): v for i, v in enumerate(val)}
    if not isinstance(val, dict):
        raise _invalid(name, f"Invalid object: {name}")
    return {str(k): "" if v is None else str(v) for k, v in val.items()}


# Payment method types whose outcome Stripe learns only days later (the
# PaymentIntent stays `processing`; Checkout sends async_payment_* events).
DELAYED_METHOD_TYPES = ("sepa_debit", "bacs_debit", "au_becs_debit", "acss_debit", "us_bank_account", "sofort")


def _delayed_method_type(session: dict) -> str | None:
    for t in session.get("payment_method_types") or []:
        if t in DELAYED_METHOD_TYPES:
            return t
    return None


CAPABILITY_STATUSES = ("active", "inactive", "pending")


def _check_capability_status(status: str) -> None:
    if status not in CAPABILITY_STATUSES:
        raise ValueError(f"capability status must be one of {', '.join(CAPABILITY_STATUSES)}, got {status!r}")


def _requested_capabilities(params: dict, current: dict[str, str] | None = None) -> dict[str, str]:
    """Apply `capabilities[<name>][requested]=true|false` to an account's capabilities.

    Real Stripe lists a requested capability as `inactive` (or `pending`) until
    the account holder has completed onboarding and been verified; only then
    does it become `active`. In test mode the emulator treats a requested
    capability as onboarded at once; `StripeEmulator.set_capability` takes it
    away again. A capability that was never requested is absent, so a transfer
    to an account created without `capabilities[transfers][requested]=true`
    is refused, as on Stripe."""
    caps = dict(current or {})
    raw = params.get("capabilities")
    if raw in (None, ""):
        return caps
    if not isinstance(raw, dict):
        raise _invalid("capabilities", "Invalid hash")
    for name, spec in raw.items():
        label = f"capabilities[{name}][requested]"
        if not isinstance(spec, dict) or spec.get("requested") in (None, ""):
            raise _missing(label)
        requested = str(spec["requested"]).lower()
        if requested not in ("true", "false"):
            raise _invalid(label, f"Invalid boolean: {spec['requested']}")
        if requested == "true":
            caps[name] = "active"
        elif name in caps:
            caps[name] = "inactive"
    return caps


def _refresh_account_flags(acct: dict) -> None:
    # An approximation of what Stripe derives from an account's verification:
    # charges need card_payments; an account with any active capability has
    # finished onboarding.
    caps = acct["capabilities"]
    acct["charges_enabled"] = caps.get("card_payments") == "active"
    acct["payouts_enabled"] = acct["details_submitted"] = any(v == "active" for v in caps.values())


def format_eur(amount: int, currency: str = "eur") -> str:
    """Dutch money formatting: 123450 -> '€ 1.234,50'."""
    neg = amount < 0
    amount = abs(int(amount))
    units, cents = divmod(amount, 100)
    units_s = f"{units:,}".replace(",", ".")
    sym = "€" if currency.lower() == "eur" else currency.upper()
    return f"{'-' if neg else ''}{sym} {units_s},{cents:02d}"


# --------------------------------------------------------------------------- #
# emulator
# --------------------------------------------------------------------------- #


class StripeEmulator:
    """In-memory Stripe emulator.  See module docstring."""

    retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)  # 1 sync try + 4 retries = 5
    delivery_timeout: float = 10.0

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 api_key: str = "sk_test_loket_emulator",
                 webhook_secret: str = "whsec_loket_emulator",
                 webhook_url: str | None = None, public_url: str | None = None):
        self.host = host
        self.port = port
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self._public_url = public_url.rstrip("/") if public_url else None
        self.url: str = ""
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._sessions: dict[str, dict] = {}
        self._line_items: dict[str, list[dict]] = {}
        self._payment_intents: dict[str, dict] = {}
        self._charges: dict[str, dict] = {}
        self._transfers: dict[str, dict] = {}
        self._refunds: dict[str, dict] = {}
        self._accounts: dict[str, dict] = {}
        self._events: list[dict] = []
        self._event_index: dict[str, dict] = {}
        self._payloads: dict[str, bytes] = {}
        self._deliveries: list[dict] = []
        # (api key, Stripe-Account, Idempotency-Key) -> (method, path, params, status, body)
        self._idempotency: dict[tuple[str, str, str], tuple[str, str, dict, int, bytes]] = {}
        # Injected faults: a count per kind, and one record per fault
        # ({"kind", "phase", "method", "path", "at"}; phase "before"/"after" for timeouts).
        self.injected: dict[str, int] = {kind: 0 for kind in FAULT_KINDS}
        self.fault_log: list[dict] = []
        # Where a stripe_timeout drops the connection: "before" processing,
        # "after" it (object created, answer stored), or None for either, at random.
        self.timeout_phase: str | None = None
        self._fault_random = random.Random()

    # ------------------------------------------------------------ lifecycle
    @property
    def public_url(self) -> str:
        return self._public_url or self.url

    def start(self) -> "StripeEmulator":
        emu = self

        class Handler(_Handler):
            emulator = emu

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        host = self.host if self.host not in ("0.0.0.0", "", "::") else "127.0.0.1"
        self.port = port
        self.url = f"http://{host}:{port}"
        self._stopping.clear()
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="stripe-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "StripeEmulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ inspection
    def events(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._events)

    def deliveries(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._deliveries)

    def event_payload(self, event_id: str) -> bytes:
        """Exact JSON bytes that were (or would be) delivered for an event."""
        with self._lock:
            return self._payloads[event_id]

    def add_account(self, account_id: str | None = None, *,
                    capabilities: dict[str, str] | None = None, **fields: Any) -> dict:
        """Seed a connected account (e.g. fixed ids from Loket's seed data).
        Seeded accounts are onboarded: `transfers` and `card_payments` are
        active unless `capabilities` ({name: status}) says otherwise."""
        if capabilities is None:
            capabilities = {"transfers": "active", "card_payments": "active"}
        for name, status in capabilities.items():
            _check_capability_status(status)
        with self._lock:
            acct = self._new_account(account_id, fields, dict(capabilities))
            return copy.deepcopy(acct)

    def set_capability(self, account_id: str, name: str, status: str | None) -> dict:
        """Change a connected account's capability, as Stripe does when a
        requirement comes due or verification fails (status `inactive` or
        `pending`), or when onboarding completes (`active`); None removes it."""
        if status is not None:
            _check_capability_status(status)
        with self._lock:
            acct = self._accounts[account_id]
            if status is None:
                acct["capabilities"].pop(name, None)
            else:
                acct["capabilities"][name] = status
            _refresh_account_flags(acct)
            return copy.deepcopy(acct)

    def settle_async(self, session_id: str, succeeded: bool) -> dict:
        """The bank answers for a delayed payment ("bank_transfer" on the hosted
        page): the PaymentIntent goes from `processing` to `succeeded` (the
        session becomes `paid`; event checkout.session.async_payment_succeeded)
        or to `requires_payment_method` (the session stays complete/unpaid;
        event checkout.session.async_payment_failed). The event is delivered
        like the others; returns it. KeyError for an unknown session,
        ValueError when nothing is in processing."""
        with self._lock:
            ev = self._settle(session_id, succeeded)
        self._deliver(ev["id"], sync_first=True)
        return ev

    def expire_due(self, now: float | None = None) -> list[str]:
        now = time.time() if now is None else now
        events = []
        with self._lock:
            ids = [s["id"] for s in self._sessions.values()
                   if s["status"] == "open" and s["expires_at"] <= now]
            for sid in ids:
                events.append(self._expire_session(sid))
        for ev in events:
            self._deliver(ev["id"], sync_first=True)
        return ids

    # ------------------------------------------------------------ faults
    def _roll_fault(self, method: str, path: str) -> tuple[str, str | None] | None:
        """Decide, per API request, whether to inject a fault: (kind, phase) or None."""
        if faults.roll("stripe_error"):
            kind, phase = "stripe_error", None
        elif faults.roll("stripe_rate_limit"):
            kind, phase = "stripe_rate_limit", None
        elif faults.roll("stripe_timeout"):
            kind, phase = "stripe_timeout", self.timeout_phase
        else:
            return None
        with self._lock:
            if kind == "stripe_timeout" and phase is None:
                phase = "before" if self._fault_random.random() < 0.5 else "after"
            self.injected[kind] += 1
            self.fault_log.append({"kind": kind, "phase": phase, "method": method, "path": path,
                                   "at": time.time()})
        return kind, phase

    # ------------------------------------------------------------ events
    def _create_event(self, type_: str, obj: dict, *, idempotency_key: str | None = None) -> dict:
        # caller holds the lock
        ev = {
            "id": _rand_id("evt_test_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": type_,
            "data": {"object": copy.deepcopy(obj)},
            "request": {"id": None, "idempotency_key": idempotency_key},
        }
        self._events.append(ev)
        self._event_index[ev["id"]] = ev
        self._payloads[ev["id"]] = json.dumps(ev, indent=2).encode("utf-8")
        return copy.deepcopy(ev)

    def _attempt(self, event_id: str, attempt: int) -> bool:
        url = self.webhook_url
        with self._lock:
            payload = self._payloads[event_id]
            ev_type = self._event_index[event_id]["type"]
        record: dict[str, Any] = {"event_id": event_id, "type": ev_type, "attempt": attempt,
                                  "url": url, "at": time.time(), "status": None, "error": None}
        ok = False
        try:
            header = sign_payload(payload.decode("utf-8"), self.webhook_secret)
            req = urllib.request.Request(url, data=payload, method="POST", headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": header,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) loket-emulator",
            })
            with urllib.request.urlopen(req, timeout=self.delivery_timeout) as resp:
                record["status"] = resp.status
                ok = 200 <= resp.status < 300
        except urllib.error.HTTPError as e:
            record["status"] = e.code
            record["error"] = f"HTTP {e.code}"
        except Exception as e:  # connection refused, timeout, ...
            record["error"] = f"{type(e).__name__}: {e}"
        record["ok"] = ok
        with self._lock:
            self._deliveries.append(record)
        return ok

    def _deliver(self, event_id: str, *, sync_first: bool) -> None:
        if self.webhook_url is None:
            return
        if sync_first:
            if self._attempt(event_id, 1):
                return
            self._spawn_retries(event_id, first_attempt=2)
        else:
            self._spawn_retries(event_id, first_attempt=1)

    def _spawn_retries(self, event_id: str, first_attempt: int) -> None:
        def run() -> None:
            attempt = first_attempt
            if attempt == 1:
                if self._attempt(event_id, 1):
                    return
                attempt = 2
            for delay in self.retry_delays[attempt - 2:]:
                if self._stopping.wait(delay) or self.webhook_url is None:
                    return
                if self._attempt(event_id, attempt):
                    return
                attempt += 1

        threading.Thread(target=run, name=f"webhook-{event_id}", daemon=True).start()

    # ------------------------------------------------------------ objects
    def _new_account(self, account_id: str | None, params: dict, capabilities: dict[str, str]) -> dict:
        aid = account_id or _rand_id("acct_", 16)
        bp = params.get("business_profile") or {}
        if not isinstance(bp, dict):
            bp = {}
        acct = {
            "id": aid,
            "object": "account",
            "type": params.get("type") or "express",
            "country": params.get("country") or "NL",
            "email": params.get("email"),
            "business_profile": {"name": bp.get("name"), "url": bp.get("url"),
                                 "mcc": bp.get("mcc"), "support_email": bp.get("support_email")},
            "business_type": params.get("business_type"),
            "default_currency": "eur",
            "capabilities": capabilities,
            "metadata": _dict(params, "metadata"),
            "created": int(time.time()),
            "livemode": False,
        }
        _refresh_account_flags(acct)
        self._accounts[aid] = acct
        return acct

    def _update_account(self, acct: dict, params: dict) -> dict:
        acct["capabilities"] = _requested_capabilities(params, acct["capabilities"])
        for k, v in _dict(params, "metadata").items():
            if v == "":
                acct["metadata"].pop(k, None)
            else:
                acct["metadata"][k] = v
        _refresh_account_flags(acct)
        return copy.deepcopy(acct)

    def _expire_session(self, sid: str) -> dict:
        s = self._sessions[sid]
        s["status"] = "expired"
        return self._create_event("checkout.session.expired", self._public_session(s))

    def _complete_session(self, sid: str, method: str = "card") -> dict:
        """The buyer pays on the hosted page. `method` is "card" (paid at
        once) or "bank_transfer": a delayed-notification payment (modelled on
        SEPA Direct Debit) that completes the session with payment_status
        `unpaid` and the PaymentIntent `processing` until settle_async()."""
        # caller holds lock; session is open
        s = self._sessions[sid]
        now = int(time.time())
        customer_details = {"email": s["customer_email"], "name": None, "address": None,
                            "phone": None, "tax_exempt": "none", "tax_ids": []}
        if s["amount_total"] == 0:  # no-cost order: complete without a PaymentIntent
            s.update({"status": "complete", "payment_status": "no_payment_required",
                      "customer_details": customer_details})
            return self._create_event("checkout.session.completed", self._public_session(s))
        delayed = method == "bank_transfer"
        pm_type = _delayed_method_type(s) if delayed else "card"
        pid = _rand_id("pi_test_")
        cid = _rand_id("ch_test_")
        pid_data = s.get("_pi_data") or {}
        charge = {
            "id": cid, "object": "charge", "amount": s["amount_total"],
            "amount_captured": s["amount_total"], "amount_refunded": 0,
            "currency": s["currency"], "payment_intent": pid, "paid": not delayed,
            "captured": True, "refunded": False, "status": "pending" if delayed else "succeeded",
            "failure_code": None, "failure_message": None,
            "payment_method_details": {"type": pm_type},
            "transfer_group": pid_data.get("transfer_group"),
            "metadata": dict(pid_data.get("metadata") or {}),
            "billing_details": {"email": s["customer_email"], "name": None,
                                "address": None, "phone": None},
            "created": now, "livemode": False,
        }
        pi = {
            "id": pid, "object": "payment_intent", "amount": s["amount_total"],
            "amount_received": 0 if delayed else s["amount_total"], "amount_capturable": 0,
            "currency": s["currency"], "status": "processing" if delayed else "succeeded",
            "transfer_group": pid_data.get("transfer_group"),
            "latest_charge": cid, "last_payment_error": None,
            "metadata": dict(pid_data.get("metadata") or {}),
            "receipt_email": s["customer_email"],
            "payment_method_types": [pm_type],
            "created": now, "livemode": False,
        }
        self._charges[cid] = charge
        self._payment_intents[pid] = pi
        s.update({
            "status": "complete",
            "payment_status": "unpaid" if delayed else "paid",
            "payment_intent": pid,
            "customer_details": customer_details,
        })
        return self._create_event("checkout.session.completed", self._public_session(s))

    def _settle(self, sid: str, succeeded: bool) -> dict:
        # caller holds lock
        s = self._sessions.get(sid)
        if s is None:
            raise KeyError(sid)
        pi = self._payment_intents.get(s.get("payment_intent") or "")
        if s["status"] != "complete" or pi is None or pi["status"] != "processing":
            raise ValueError(f"Checkout Session {sid} has no delayed payment in processing")
        charge = self._charges[pi["latest_charge"]]
        if succeeded:
            pi.update({"status": "succeeded", "amount_received": pi["amount"]})
            charge.update({"status": "succeeded", "paid": True})
            s["payment_status"] = "paid"
            return self._create_event("checkout.session.async_payment_succeeded", self._public_session(s))
        message = "The customer's account has insufficient funds to cover this payment."
        charge.update({"status": "failed", "paid": False, "failure_code": "insufficient_funds",
                       "failure_message": message})
        pi.update({"status": "requires_payment_method", "last_payment_error": {
            "code": "insufficient_funds", "message": message, "charge": charge["id"]}})
        return self._create_event("checkout.session.async_payment_failed", self._public_session(s))

    @staticmethod
    def _public_session(s: dict) -> dict:
        return {k: copy.deepcopy(v) for k, v in s.items() if not k.startswith("_")}

    def _success_url(self, s: dict) -> str:
        return s["success_url"].replace("{CHECKOUT_SESSION_ID}", s["id"])

    # ------------------------------------------------------------ API routing
    def handle_api(self, method: str, path: str, params: dict, idem_key: str | None
                   ) -> tuple[int, dict, list[str]]:
        """Dispatch an authenticated API call; returns (status, body, event ids)."""
        status, body, events, _ = self._handle(method, path, params, idem_key)
        return status, body, events

    def _handle(self, method: str, path: str, params: dict, idem_key: str | None
                ) -> tuple[int, dict, list[str], bool]:
        """As handle_api, plus whether Stripe would save the answer under the
        idempotency key (not when the parameters failed validation)."""
        with self._lock:
            mark = len(self._events)
            saved = True
            try:
                status, body = self._route(method, path, params, idem_key)
            except StripeError as e:
                status, body, saved = e.status, e.body, e.saved
            new_events = [e["id"] for e in self._events[mark:]]
            return status, body, new_events, saved and status < 500

    def _route(self, method: str, path: str, params: dict, idem_key: str | None) -> tuple[int, dict]:
        parts = [p for p in path.split("/") if p][1:]  # drop "v1"
        n = len(parts)
        if n >= 2 and parts[0] == "checkout" and parts[1] == "sessions":
            if n == 2 and method == "POST":
                return 200, self._create_session(params)
            if n == 2 and method == "GET":
                data = sorted(self._sessions.values(), key=lambda x: x["created"], reverse=True)
                return 200, self._list("/v1/checkout/sessions", [self._public_session(s) for s in data], params)
            if n >= 3:
                sid = parts[2]
                if sid not in self._sessions:
                    raise _not_found("checkout.session", sid, "session" if n > 3 else "id")
                s = self._sessions[sid]
                if n == 3 and method == "GET":
                    out = self._public_session(s)
                    expand = params.get("expand") or []
                    if "line_items" in expand:
                        out["line_items"] = self._list(f"/v1/checkout/sessions/{sid}/line_items",
                                                       copy.deepcopy(self._line_items[sid]), {})
                    return 200, out
                if n == 4 and parts[3] == "line_items" and method == "GET":
                    return 200, self._list(f"/v1/checkout/sessions/{sid}/line_items",
                                           copy.deepcopy(self._line_items[sid]), params)
                if n == 4 and parts[3] == "expire" and method == "POST":
                    if s["status"] != "open":
                        raise StripeError(400, 'Only Checkout Sessions with a status in ["open"] '
                                               f'can be expired. This Checkout Session has a status '
                                               f'of "{s["status"]}".')
                    self._expire_session(sid)
                    return 200, self._public_session(s)
        elif n >= 1 and parts[0] == "payment_intents":
            if n == 2 and method == "GET":
                pi = self._payment_intents.get(parts[1])
                if not pi:
                    raise _not_found("payment_intent", parts[1])
                return 200, copy.deepcopy(pi)
        elif n >= 1 and parts[0] == "charges":
            if n == 2 and method == "GET":
                ch = self._charges.get(parts[1])
                if not ch:
                    raise _not_found("charge", parts[1])
                return 200, copy.deepcopy(ch)
        elif n >= 1 and parts[0] == "transfers":
            if n == 1 and method == "POST":
                return 200, self._create_transfer(params)
            if n == 1 and method == "GET":
                data = [t for t in self._transfers.values()
                        if (not params.get("transfer_group") or t["transfer_group"] == params["transfer_group"])
                        and (not params.get("destination") or t["destination"] == params["destination"])]
                data.sort(key=lambda t: t["_seq"], reverse=True)
                return 200, self._list("/v1/transfers", [self._public_session(t) for t in data], params)
            if n == 2 and method == "GET":
                t = self._transfers.get(parts[1])
                if not t:
                    raise _not_found("transfer", parts[1])
                return 200, self._public_session(t)
            if n == 3 and parts[2] == "reversals" and method == "POST":
                return 200, self._create_reversal(parts[1], params, idem_key)
        elif n >= 1 and parts[0] == "refunds":
            if n == 1 and method == "POST":
                return 200, self._create_refund(params, idem_key)
            if n == 2 and method == "GET":
                r = self._refunds.get(parts[1])
                if not r:
                    raise _not_found("refund", parts[1])
                return 200, copy.deepcopy(r)
        elif n >= 1 and parts[0] == "accounts":
            if n == 1 and method == "POST":
                if params.get("type") and params["type"] not in ("express", "standard", "custom"):
                    raise _invalid("type", f"Invalid type: must be one of express, standard, or custom")
                return 200, copy.deepcopy(self._new_account(None, params, _requested_capabilities(params)))
            if n == 2:
                acct = self._accounts.get(parts[1])
                if not acct:
                    raise _not_found("account", parts[1], "account")
                if method == "GET":
                    return 200, copy.deepcopy(acct)
                if method == "POST":
                    return 200, self._update_account(acct, params)
                if method == "DELETE":
                    del self._accounts[parts[1]]
                    return 200, {"id": parts[1], "object": "account", "deleted": True}
        elif n >= 1 and parts[0] == "events":
            if n == 2 and method == "GET":
                ev = self._event_index.get(parts[1])
                if not ev:
                    raise _not_found("event", parts[1])
                return 200, copy.deepcopy(ev)
            if n == 1 and method == "GET":
                data = list(reversed(self._events))
                if params.get("type"):
                    data = [e for e in data if e["type"] == params["type"]]
                return 200, self._list("/v1/events", copy.deepcopy(data), params)
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}). Please see "
                               "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                          saved=False)

    @staticmethod
    def _list(url: str, data: list, params: dict) -> dict:
        limit = 10
        try:
            if params.get("limit"):
                limit = max(1, min(100, int(params["limit"])))
        except (TypeError, ValueError):
            raise _invalid("limit", "Invalid integer: limit")
        return {"object": "list", "data": data[:limit], "has_more": len(data) > limit, "url": url}

    def _create_session(self, p: dict) -> dict:
        mode = p.get("mode")
        if not mode:
            raise _missing("mode")
        if mode != "payment":
            raise _invalid("mode", f"The emulator only supports mode=payment, got '{mode}'.")
        if not p.get("success_url"):
            raise _missing("success_url")
        items = p.get("line_items")
        if not items:
            raise _missing("line_items")
        if not isinstance(items, list):
            raise _invalid("line_items", "Invalid array: line_items")
        now = int(time.time())
        currency = None
        line_items = []
        total = 0
        for i, it in enumerate(items):
            base = f"line_items[{i}]"
            if not isinstance(it, dict):
                raise _invalid(base, f"Invalid object: {base}")
            if it.get("price"):
                raise _invalid(f"{base}[price]", "The emulator only supports price_data, not price ids.")
            pd = it.get("price_data")
            if not isinstance(pd, dict):
                raise _missing(f"{base}[price_data]")
            cur = (pd.get("currency") or "").lower()
            if not cur:
                raise _missing(f"{base}[price_data][currency]")
            if currency and cur != currency:
                raise _invalid(f"{base}[price_data][currency]",
                               "All line items must have the same currency.")
            currency = cur
            unit = _int(pd, "unit_amount", required=True, label=f"{base}[price_data][unit_amount]")
            prod = pd.get("product_data")
            if not isinstance(prod, dict) or not prod.get("name"):
                raise _missing(f"{base}[price_data][product_data][name]")
            qty = _int(it, "quantity", required=True, minimum=1, label=f"{base}[quantity]")
            amount = unit * qty
            total += amount
            line_items.append({
                "id": _rand_id("li_test_"),
                "object": "item",
                "description": prod["name"],
                "quantity": qty,
                "amount_subtotal": amount,
                "amount_total": amount,
                "amount_discount": 0,
                "amount_tax": 0,
                "currency": cur,
                "price": {
                    "id": _rand_id("price_test_"),
                    "object": "price",
                    "unit_amount": unit,
                    "currency": cur,
                    "product": _rand_id("prod_test_", 14),
                    "type": "one_time",
                    "active": False,
                    "livemode": False,
                },
                "_product_description": prod.get("description"),
            })
        # Since API version 2023-08-16 a one-time payment may total 0 (a no-cost
        # order: no payment method is collected); anything above 0 must reach
        # the currency's minimum charge amount.
        minimum = MIN_CHARGE.get(currency or "")
        if minimum and 0 < total < minimum:
            shown = f"{_SYMBOLS.get(currency, '')}{minimum // 100}.{minimum % 100:02d} {currency}"
            raise StripeError(400, f"The Checkout Session's total amount due must add up to at least {shown}",
                              saved=False)
        # No tolerance: the bounds are measured from the moment Stripe creates
        # the session, not from when the caller computed expires_at.
        expires_at = _int(p, "expires_at", minimum=None)
        if expires_at is None:
            expires_at = now + MAX_EXPIRY
        elif expires_at < now + MIN_EXPIRY:
            raise _invalid("expires_at", "The `expires_at` timestamp must be at least 30 minutes from "
                                         "Checkout Session creation.")
        elif expires_at > now + MAX_EXPIRY:
            raise _invalid("expires_at", "The `expires_at` timestamp must be less than 24 hours from "
                                         "Checkout Session creation.")
        pid_data = p.get("payment_intent_data") or {}
        if not isinstance(pid_data, dict):
            raise _invalid("payment_intent_data", "Invalid object: payment_intent_data")
        sid = _rand_id("cs_test_", 58)
        s = {
            "id": sid,
            "object": "checkout.session",
            "url": f"{self.public_url}/pay/{sid}",
            "mode": mode,
            "status": "open",
            "payment_status": "unpaid",
            "amount_subtotal": total,
            "amount_total": total,
            "currency": currency,
            "customer": None,
            "customer_email": p.get("customer_email") or None,
            "customer_details": None,
            "client_reference_id": p.get("client_reference_id") or None,
            "metadata": _dict(p, "metadata"),
            "locale": p.get("locale") or None,
            # Without payment_method_types Stripe offers the methods enabled in
            # the Dashboard; the emulator's "Dashboard" has cards and SEPA Direct Debit.
            "payment_method_types": p.get("payment_method_types") or ["card", "sepa_debit"],
            "expires_at": expires_at,
            "success_url": p["success_url"],
            "cancel_url": p.get("cancel_url") or None,
            "payment_intent": None,
            "created": now,
            "livemode": False,
            "_pi_data": {
                "transfer_group": pid_data.get("transfer_group") or None,
                "metadata": _dict(pid_data, "metadata"),
            },
        }
        self._sessions[sid] = s
        for li in line_items:
            li.pop("_product_description", None)
        self._line_items[sid] = line_items
        return self._public_session(s)

    def _create_transfer(self, p: dict) -> dict:
        amount = _int(p, "amount", required=True, minimum=1)
        currency = (p.get("currency") or "").lower()
        if not currency:
            raise _missing("currency")
        dest = p.get("destination")
        if not dest:
            raise _missing("destination")
        if dest not in self._accounts:
            raise StripeError(400, f"No such destination: '{dest}'", code="resource_missing",
                              param="destination")
        if self._accounts[dest]["capabilities"].get("transfers") != "active":
            raise StripeError(400, "Your destination account needs to have at least one of the following "
                                   "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                              code="insufficient_capabilities_for_transfer")
        src = p.get("source_transaction") or None
        if src is not None and src not in self._charges:
            raise StripeError(400, f"No such charge: '{src}'", code="resource_missing",
                              param="source_transaction")
        if src is not None:
            # A transfer tied to a charge can only pass on what is left of it.
            charge = self._charges[src]
            transferred = sum(t["amount"] - t["amount_reversed"] for t in self._transfers.values()
                              if t["source_transaction"] == src)
            left = charge["amount"] - transferred
            if amount > left:
                raise StripeError(400, f"Insufficient funds on the source transaction {src}: the transfer "
                                       f"amount ({format_eur(amount, currency)}) exceeds the amount still "
                                       f"available on it ({format_eur(left, charge['currency'])}).",
                                  code="balance_insufficient", param="source_transaction")
        tid = _rand_id("tr_test_")
        t = {
            "id": tid, "object": "transfer", "amount": amount, "amount_reversed": 0,
            "currency": currency, "destination": dest,
            "destination_payment": _rand_id("py_test_"),
            "transfer_group": p.get("transfer_group") or None,
            "source_transaction": src, "description": p.get("description") or None,
            "metadata": _dict(p, "metadata"), "reversed": False, "reversals": {
                "object": "list", "data": [], "has_more": False,
                "url": f"/v1/transfers/{tid}/reversals"},
            "created": int(time.time()), "livemode": False,
            "_seq": len(self._transfers),
        }
        self._transfers[tid] = t
        return self._public_session(t)

    def _create_reversal(self, tid: str, p: dict, idem_key: str | None) -> dict:
        """Part or all of a transfer taken back from the connected account, never more than is
        left of it: Stripe refuses a reversal of an already reversed transfer or beyond its rest."""
        t = self._transfers.get(tid)
        if not t:
            raise _not_found("transfer", tid)
        amount = _amount_of_rest(p, t["amount"] - t["amount_reversed"], t["currency"],
                                 StripeError(400, f"Transfer {tid} has already been fully reversed.",
                                             code="transfer_already_reversed"),
                                 "Reversal amount ({amount}) is greater than the amount left on transfer "
                                 f"{tid} ({{rest}}).")
        r = {"id": _rand_id("trr_test_"), "object": "transfer_reversal", "amount": amount,
             "currency": t["currency"], "transfer": tid, "destination_payment_refund": _rand_id("pyr_test_"),
             "metadata": _dict(p, "metadata"), "created": int(time.time())}
        t["amount_reversed"] += amount
        t["reversed"] = t["amount_reversed"] >= t["amount"]
        t["reversals"]["data"].append(copy.deepcopy(r))
        self._create_event("transfer.reversed", self._public_session(t), idempotency_key=idem_key)
        return copy.deepcopy(r)

    def _create_refund(self, p: dict, idem_key: str | None) -> dict:
        pid = p.get("payment_intent")
        if not pid:
            if p.get("charge"):
                ch = self._charges.get(p["charge"])
                if not ch:
                    raise _not_found("charge", p["charge"], "charge")
                pid = ch["payment_intent"]
            else:
                raise _missing("payment_intent")
        pi = self._payment_intents.get(pid)
        if not pi:
            raise StripeError(400, f"No such payment_intent: '{pid}'", code="resource_missing",
                              param="payment_intent")
        charge = self._charges[pi["latest_charge"]]
        if charge["status"] != "succeeded":  # e.g. a bank payment still processing, or failed
            raise StripeError(400, f"This PaymentIntent ({pid}) does not have a successful charge to refund.")
        amount = _amount_of_rest(p, charge["amount"] - charge["amount_refunded"], charge["currency"],
                                 StripeError(400, f"Charge {charge['id']} has already been refunded.",
                                             code="charge_already_refunded"),
                                 "Refund amount ({amount}) is greater than unrefunded amount on charge ({rest})")
        rid = _rand_id("re_test_")
        r = {
            "id": rid, "object": "refund", "amount": amount, "currency": charge["currency"],
            "payment_intent": pid, "charge": charge["id"], "status": "succeeded",
            "reason": p.get("reason") or None, "metadata": _dict(p, "metadata"),
            "created": int(time.time()), "livemode": False,
        }
        self._refunds[rid] = r
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self._create_event("refund.created", r, idempotency_key=idem_key)
        self._create_event("charge.refunded", charge, idempotency_key=idem_key)
        return copy.deepcopy(r)

    # ------------------------------------------------------------ hosted page
    def render_page(self, sid: str) -> tuple[int, str]:
        with self._lock:
            s = self._sessions.get(sid)
            if s is None:
                return 404, _page("Betaling niet gevonden",
                                  "<p>Deze betaalsessie bestaat niet.</p>")
            s = copy.deepcopy(s)
            items = copy.deepcopy(self._line_items[sid])
            pi_status = (self._payment_intents.get(s.get("payment_intent") or "") or {}).get("status")
        rows = "".join(
            f"<tr><td>{html.escape(li['description'])}</td>"
            f"<td class=n>{li['quantity']}×</td>"
            f"<td class=n>{html.escape(format_eur(li['amount_total'], li['currency']))}</td></tr>"
            for li in items)
        total = html.escape(format_eur(s["amount_total"], s["currency"]))
        email = html.escape(s.get("customer_email") or "—")
        table = (f"<table><thead><tr><th>Omschrijving</th><th class=n>Aantal</th>"
                 f"<th class=n>Bedrag</th></tr></thead><tbody>{rows}</tbody>"
                 f"<tfoot><tr><td colspan=2>Totaal</td><td class=n id=total>{total}</td></tr></tfoot>"
                 f"</table><p class=muted>E-mail: <span id=email>{email}</span></p>")
        qid = urllib.parse.quote(sid)
        if s["status"] == "open":
            bank = (f'<form method=post action="/pay/{qid}/complete?method=bank_transfer">'
                    f'<button id="pay-bank" type="submit" class=secondary>Betalen via overschrijving'
                    f'</button></form>'
                    if _delayed_method_type(s) and s["amount_total"] > 0 else "")
            body = (table +
                    f'<div class=actions>'
                    f'<form method=post action="/pay/{qid}/complete">'
                    f'<button id="pay" type="submit" class=primary>Betalen</button></form>'
                    f'{bank}'
                    f'<form method=post action="/pay/{qid}/cancel">'
                    f'<button id="cancel" type="submit" class=secondary>Annuleren</button></form>'
                    f'</div>')
        elif s["status"] == "complete":
            if s["payment_status"] != "unpaid":
                notice = "Deze betaling is al voltooid."
            elif pi_status == "processing":
                notice = ("Je betaling via overschrijving wordt verwerkt. Zodra de bank ze bevestigt, "
                          "krijg je bericht.")
            else:
                notice = "De betaling via overschrijving is mislukt; er is niets afgeschreven."
            body = (f'<p class=notice id=status>{notice}</p>' + table +
                    f'<p><a href="{html.escape(self._success_url(s))}">Terug naar Loket</a></p>')
        else:
            link = (f'<p><a href="{html.escape(s["cancel_url"])}">Terug naar Loket</a></p>'
                    if s.get("cancel_url") else "")
            body = (f'<p class=notice id=status>Deze betaalsessie is verlopen. '
                    f'Er is niets afgeschreven.</p>' + table + link)
        return 200, _page("Betalen", body)


_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:#f4f5f7;color:#1f2430}.banner{background:#fff3cd;color:#664d03;border-bottom:1px solid #ffe69c;
padding:.6rem 1rem;text-align:center;font-weight:600}main{max-width:32rem;margin:2rem auto;background:#fff;
border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:1.5rem 1.75rem}h1{font-size:1.35rem;
margin:0 0 1rem}table{width:100%;border-collapse:collapse;margin-bottom:.75rem}th,td{padding:.45rem 0;
border-bottom:1px solid #eceef2;text-align:left}th{font-size:.8rem;color:#6b7280;font-weight:600;
text-transform:uppercase}.n{text-align:right;white-space:nowrap}tfoot td{font-weight:700;border-bottom:0;
font-size:1.1rem}.muted{color:#6b7280;font-size:.9rem}.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.25rem}
.actions form{flex:1 1 40%}button{width:100%;padding:.75rem;border-radius:8px;font-size:1rem;font-weight:600;
cursor:pointer;border:1px solid transparent}.primary{background:#635bff;color:#fff}.primary:hover{background:#5046e5}
.secondary{background:#fff;color:#374151;border-color:#d1d5db}.secondary:hover{background:#f9fafb}
.notice{background:#eef2ff;border-radius:8px;padding:.75rem 1rem}a{color:#635bff}
"""


def _page(heading: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>Betalen – Loket (test)</title>"
        f"<style>{_CSS}</style></head><body>"
        '<div class="banner" role="note">Testomgeving – er wordt geen echt geld aangerekend</div>'
        f"<main><h1>{html.escape(heading)}</h1>{body}</main></body></html>"
    )


# --------------------------------------------------------------------------- #
# HTTP handler
# --------------------------------------------------------------------------- #


class _Handler(BaseHTTPRequestHandler):
    emulator: StripeEmulator
    protocol_version = "HTTP/1.1"
    server_version = "LoketStripeEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -------- plumbing
    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", _rand_id("req_", 14))
        self.send_header("Stripe-Version", API_VERSION)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict | None = None) -> None:
        self._send(status, json.dumps(obj, indent=2).encode(), "application/json", headers)

    def _html(self, status: int, text: str) -> None:
        self._send(status, text.encode("utf-8"), "text/html; charset=utf-8")

    def _redirect(self, location: str) -> None:
        self._send(303, b"", "text/plain", {"Location": location})

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _params(self, body: bytes) -> dict:
        split = urllib.parse.urlsplit(self.path)
        pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        ctype = (self.headers.get("Content-Type") or "").lower()
        if body:
            if "application/json" in ctype:
                data = json.loads(body or b"{}")
                params = parse_form(pairs)
                params.update(data if isinstance(data, dict) else {})
                return params
            pairs += urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        return parse_form(pairs)

    def _api_key(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            return auth[7:].strip()
        if auth.startswith("Basic "):
            try:
                return base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except Exception:
                return None
        return None

    # -------- verbs
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        emu = self.emulator
        try:
            body = self._read_body()
            path = urllib.parse.urlsplit(self.path).path
            if path.startswith("/v1/"):
                return self._api(method, path, body)
            if path.startswith("/pay/"):
                return self._pay(method, path)
            if path == "/_emulator/events" and method == "GET":
                return self._json(200, emu.events())
            if path == "/_emulator/deliveries" and method == "GET":
                return self._json(200, emu.deliveries())
            m = re.fullmatch(r"/_emulator/sessions/([^/]+)/settle", path)
            if m and method == "POST":  # the bank's answer, for `make run`: ?outcome=succeeded|failed
                outcome = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)).get("outcome")
                if outcome not in ("succeeded", "failed"):
                    return self._json(400, {"error": "outcome must be succeeded or failed"})
                try:
                    return self._json(200, emu.settle_async(urllib.parse.unquote(m.group(1)),
                                                            outcome == "succeeded"))
                except KeyError:
                    return self._json(404, {"error": "no such session"})
                except ValueError as e:
                    return self._json(409, {"error": str(e)})
            if path in ("/", "/_emulator/health"):
                return self._json(200, {"ok": True, "emulator": "stripe", "url": emu.url})
            self._json(404, {"error": {"type": "invalid_request_error",
                                       "message": f"Unrecognized request URL ({method}: {path})."}})
        except Exception as e:  # pragma: no cover - last resort
            try:
                self._json(500, {"error": {"type": "api_error", "message": f"Emulator error: {e!r}"}})
            except Exception:
                pass

    def _api(self, method: str, path: str, body: bytes) -> None:
        emu = self.emulator
        key = self._api_key()
        if key != emu.api_key:
            shown = (key[:8] + "*" * max(0, len(key) - 12) + key[-4:]) if key else ""
            msg = (f"Invalid API Key provided: {shown}" if key else
                   "You did not provide an API key. You need to provide your API key in the "
                   "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
            return self._json(401, {"error": {"type": "invalid_request_error", "message": msg}},
                              {"WWW-Authenticate": 'Bearer realm="Stripe"'})
        try:
            params = self._params(body)
        except Exception as e:
            return self._json(400, {"error": {"type": "invalid_request_error",
                                              "message": f"Invalid request body: {e}"}})
        fault = emu._roll_fault(method, path)
        if fault == ("stripe_error", None):
            return self._json(500, API_ERROR_BODY)
        if fault == ("stripe_rate_limit", None):
            return self._json(429, RATE_LIMIT_BODY)
        if fault == ("stripe_timeout", "before"):
            return self._drop()
        drop_after = fault == ("stripe_timeout", "after")
        idem = self.headers.get("Idempotency-Key") if method == "POST" else None
        if idem:
            # Keys are scoped to the account making the request (API key, and
            # the connected account it acts for).
            ikey = (key, self.headers.get("Stripe-Account") or "", idem)
            # Hold the lock across lookup + execution + store so concurrent retries
            # with the same key cannot both execute.
            events: list[str] = []
            replay = False
            with emu._lock:
                stored = emu._idempotency.get(ikey)
                if stored is not None:
                    first_method, first_path, first_params, status, payload = stored
                    if (first_method, first_path, first_params) == (method, path, params):
                        replay = True
                    else:  # Stripe compares the parameters with the first request's
                        status, payload = 400, json.dumps(_idempotency_error(idem), indent=2).encode()
                else:
                    status, obj, events, saved = emu._handle(method, path, params, idem)
                    payload = json.dumps(obj, indent=2).encode()
                    if saved:
                        emu._idempotency[ikey] = (method, path, copy.deepcopy(params), status, payload)
            headers = {"Idempotency-Key": idem}
            if replay:
                headers["Idempotent-Replayed"] = "true"
            if not drop_after:
                self._send(status, payload, "application/json", headers)
        else:
            status, obj, events = emu.handle_api(method, path, params, None)
            if not drop_after:
                self._json(status, obj)
        for ev_id in events:  # API-triggered events: delivered in the background
            emu._deliver(ev_id, sync_first=False)
        if drop_after:  # processed and stored, but the answer never reaches the client
            self._drop()

    def _drop(self) -> None:
        """Close the connection without answering: the client sees the
        connection end before a response (stripe.APIConnectionError)."""
        self.close_connection = True

    def _pay(self, method: str, path: str) -> None:
        emu = self.emulator
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        pay_method = query.get("method") or "card"
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
        if len(parts) == 2 and method == "GET":
            status, text = emu.render_page(parts[1])
            return self._html(status, text)
        if len(parts) != 3 or method != "POST" or parts[2] not in ("complete", "cancel"):
            return self._html(404, _page("Niet gevonden", "<p>Deze pagina bestaat niet.</p>"))
        sid, action = parts[1], parts[2]
        event = None
        with emu._lock:
            s = emu._sessions.get(sid)
            if s is None:
                return self._html(404, _page("Betaling niet gevonden",
                                             "<p>Deze betaalsessie bestaat niet.</p>"))
            if action == "cancel":
                location = s.get("cancel_url") or f"/pay/{urllib.parse.quote(sid)}"
            elif s["status"] == "expired":
                link = (f'<p><a href="{html.escape(s["cancel_url"])}">Terug naar Loket</a></p>'
                        if s.get("cancel_url") else "")
                return self._html(409, _page("Betaling niet mogelijk",
                                             "<p id=status>Deze betaalsessie is verlopen; er is "
                                             "niets afgeschreven.</p>" + link))
            else:
                if s["status"] == "open":
                    if pay_method not in ("card", "bank_transfer") or (
                            pay_method == "bank_transfer" and not _delayed_method_type(s)):
                        return self._html(400, _page("Betaalmethode niet beschikbaar",
                                                     "<p id=status>Deze betaalmethode is niet beschikbaar "
                                                     "voor deze betaling.</p>"))
                    event = emu._complete_session(sid, pay_method)
                location = emu._success_url(s)
        if event is not None:
            emu._deliver(event["id"], sync_first=True)
        self._redirect(location)


# --------------------------------------------------------------------------- #
# CLI
# --------------------------------------------------------------------------- #


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Local Stripe emulator for Loket")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=12111)
    ap.add_argument("--api-key", default="sk_test_loket_emulator")
    ap.add_argument("--webhook-url", default=None)
    ap.add_argument("--webhook-secret", default="whsec_loket_emulator")
    ap.add_argument("--public-url", default=None,
                    help="base URL used in checkout session urls (default: the server url)")
    ap.add_argument("--account", action="append", default=[], metavar="ACCT_ID",
                    help="pre-create a connected account with this id (repeatable)")
    ap.add_argument("--expire-interval", type=float, default=30.0,
                    help="seconds between sweeps expiring overdue sessions (0 = off)")
    args = ap.parse_args(argv)
    rates = faults.configure_from_env()  # LOKET_FAULTS, as for the rest of the local stack

    emu = StripeEmulator(args.host, args.port, api_key=args.api_key,
                         webhook_secret=args.webhook_secret, webhook_url=args.webhook_url,
                         public_url=args.public_url)
    for acct in args.account:
        emu.add_account(acct)
    emu.start()
    print(f"Stripe emulator listening on {emu.url} (api key {emu.api_key}, "
          f"webhooks -> {emu.webhook_url or 'none'})", flush=True)
    injected = {k: getattr(rates, k) for k in FAULT_KINDS if getattr(rates, k)}
    if injected:
        print(f"injecting faults: {injected}", flush=True)
    try:
        while True:
            if args.expire_interval > 0:
                time.sleep(args.expire_interval)
                expired = emu.expire_due()
                if expired:
                    print(f"expired sessions: {', '.join(expired)}", flush=True)
            else:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
