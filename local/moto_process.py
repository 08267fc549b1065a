"""moto, with Loket's stand-in rules (local/moto_support.py), in a process of
its own: `make run` and the benchmarks then use two cores, where one process
would serialise moto, the API and the workers on one interpreter lock.

The parent reads one JSON line (endpoint and operator keys) from stdout, and
may send commands on stdin: `faults <spec>` sets the fault rates
(local/faults.py) inside moto, `counts` answers moto_support's refused counters
as one JSON line. Closing stdin stops the server.
"""

from __future__ import annotations

import json
import signal
import sys


def main() -> int:
    from local import faults, moto_support, stack

    # Ctrl-C reaches the whole process group: the parent stops this process by closing stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    aws = moto_support.start_local_aws(port=port)
    stack._authorize_ssm_by_parameter()
    credentials = aws.operator.get_credentials()
    print(json.dumps({"endpoint": aws.endpoint, "access_key": credentials.access_key,
                      "secret_key": credentials.secret_key}), flush=True)
    for command in sys.stdin:
        name, _, argument = command.strip().partition(" ")
        if name == "faults":
            faults.configure(faults.parse(argument or "off"))
        elif name == "counts":
            print(json.dumps({"refused": dict(moto_support.refused)}), flush=True)
    aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
