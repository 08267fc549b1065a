"""Fault injection for the local stand-ins: make moto and the Stripe emulator
fail the way AWS and Stripe do at their worst, so the product's handling of
those failures is exercised on this machine.

One process-wide set of rates, read by the moto patches
(`local/moto_support.py`) and the Stripe emulator (`local/stripe_emulator.py`),
which both run in the process that started the local stack. Configure with
`LOKET_FAULTS` (e.g. `LOKET_FAULTS=dynamodb_conflict=0.15,stripe_error=0.1`,
`LOKET_FAULTS=test` for the suite's preset, `LOKET_FAULTS=off`), or in a test
with the `faults` fixture. Every fault and its real-world source:
docs/faults.md.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
from dataclasses import dataclass, fields, replace
from typing import Iterator


@dataclass(frozen=True)
class FaultRates:
    # DynamoDB: share of TransactWriteItems and conditional writes cancelled
    # with TransactionConflict (on top of the real conflicts that concurrent
    # transactions on one item produce).
    dynamodb_conflict: float = 0.0
    # DynamoDB: share of requests refused with ProvisionedThroughputExceeded
    # or ThrottlingException.
    dynamodb_throttle: float = 0.0
    # Stripe API: share of calls answered 500 api_error.
    stripe_error: float = 0.0
    # Stripe API: share of calls answered 429 rate_limit.
    stripe_rate_limit: float = 0.0
    # Stripe API: share of calls whose connection drops (half before the
    # request is processed, half after: the client cannot tell which).
    stripe_timeout: float = 0.0
    # SQS: share of sent messages delivered twice (at-least-once delivery).
    sqs_duplicate: float = 0.0


OFF = FaultRates()
# What `make test` runs under: every fault at a rate high enough that each
# test meets several of them.
TEST = FaultRates(dynamodb_conflict=0.15, dynamodb_throttle=0.05, stripe_error=0.05, stripe_rate_limit=0.05,
                  stripe_timeout=0.05, sqs_duplicate=0.1)
PRESETS = {"off": OFF, "": OFF, "test": TEST}

_lock = threading.Lock()
_current = OFF
_random = random.Random()


def parse(spec: str) -> FaultRates:
    """`test`, `off`, or `name=rate,...` (rates 0..1; unnamed rates stay 0)."""
    spec = spec.strip()
    if spec in PRESETS:
        return PRESETS[spec]
    names = {f.name for f in fields(FaultRates)}
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in names:
            raise ValueError(f"unknown fault '{name}' in LOKET_FAULTS; known: {', '.join(sorted(names))}")
        rate = float(value)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate for '{name}' must be between 0 and 1")
        rates[name] = rate
    return FaultRates(**rates)


def current() -> FaultRates:
    return _current


def configure(rates: FaultRates) -> None:
    global _current
    with _lock:
        _current = rates


def configure_from_env() -> FaultRates:
    configure(parse(os.environ.get("LOKET_FAULTS", "off")))
    return _current


def roll(name: str) -> bool:
    """True with the configured probability of fault `name`."""
    rate = getattr(_current, name)
    if rate <= 0.0:
        return False
    with _lock:
        return _random.random() < rate


def seed(value: int | None) -> None:
    with _lock:
        _random.seed(value)


@contextlib.contextmanager
def injected(**rates: float) -> Iterator[FaultRates]:
    """Temporarily change some rates (the others keep their value)."""
    before = _current
    configure(replace(before, **rates))
    try:
        yield _current
    finally:
        configure(before)
