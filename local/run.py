"""`make run`: the whole of Loket on this machine, with demo data.

State lives in memory and is rebuilt on every start: each run begins with the
same fresh demo network. Ctrl-C stops everything this started.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer")
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "4566")))
    parser.add_argument("--stripe-port", type=int, default=int(os.environ.get("STRIPE_PORT", "12111")))
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", "0")))
    parser.add_argument("--schedule-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    started = time.monotonic()
    api_port = args.api_port or args.port + 1
    public_url = f"http://127.0.0.1:{args.port}"

    sys.path.insert(0, str(ROOT))
    from local import demo, stack as local_stack
    from local.edge import EdgeServer
    from local.runner import Runner

    print("Loket: starting local AWS (moto, IAM enforced), Stripe emulator, platform stack ...", flush=True)
    stack = local_stack.start(moto_port=args.moto_port, stripe_port=args.stripe_port, public_base_url=public_url,
                              webhook_url=f"{public_url}/api/stripe/webhook", moto_in_own_process=True)
    print("Loket: onboarding the demo venues (one CloudFormation stack each) ...", flush=True)
    seeded = demo.seed()
    # LOKET_FAULTS=test: run the demo as AWS and Stripe at their worst
    stack.configure_faults(os.environ.get("LOKET_FAULTS", "off"))
    api = edge = runner = None

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        edge = EdgeServer(port=args.port, api_port=api_port, endpoint=stack.aws.endpoint,
                          access_key=stack.outputs["LocalEdgeAccessKeyId"],
                          secret_key=stack.outputs["LocalEdgeSecretAccessKey"],
                          bucket=stack.outputs["SiteBucketName"]).start()
        api = subprocess.Popen(
            [sys.executable, "-m", "local.chalice_local", "--host", "127.0.0.1", "--port", str(api_port),
             "--stage", "local"],  # chalice local with a burst-sized listen backlog
            cwd=ROOT, env={**os.environ, **stack.env, "PYTHONUNBUFFERED": "1"})
        runner = Runner(stack.outputs["PaymentEventsQueueUrl"], schedule_seconds=args.schedule_seconds).start()
        _wait_http(f"http://127.0.0.1:{api_port}/health")
        _wait_http(public_url + "/")
        print(f"""
Loket is running ({seeded['venues']} venues, {seeded['events']} events) after {time.monotonic() - started:.1f} s.

  Storefront      {public_url}
  Catalogue       {public_url}/catalogue/network.json
  API             {public_url}/api  (chalice local on :{api_port})
  Stripe (test)   {stack.stripe.url}
  Outbox          {public_url}/outbox  (every mail SES sent, with its tickets)
  AWS (moto)      {stack.aws.endpoint}

  Staff sign-in   POST {public_url}/api/staff/session  password '{demo.DEMO_PASSWORD}'
                  users: netwerk-admin, <venue>-lead, <venue>-kassa  (venues: {', '.join(v['slug'] for v in demo.VENUES)})

State is in memory: stopping discards it, the next run starts fresh. Ctrl-C stops everything.
""", flush=True)
        while api.poll() is None:
            time.sleep(0.5)
        print("Loket: the API process ended unexpectedly", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nLoket: stopping ...", flush=True)
        return 0
    finally:
        if runner:
            runner.stop()
        if api and api.poll() is None:
            api.terminate()
            try:
                api.wait(timeout=10)
            except subprocess.TimeoutExpired:
                api.kill()
        if edge:
            edge.stop()
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
