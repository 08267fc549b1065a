"""`make bench`: numbers the closing notes and the ops team care about.

Writes bench/results.json:
- cold-start import time of app.py next to `import boto3, pydantic, chalice`
  (and `import boto3` alone), measured with `python -X importtime` in fresh
  interpreters (median of 5), and their ratio (issue 10: at most 1.3); the
  same from the unpacked deployment package, with and without the bytecode
  `make package` adds (what a fresh Lambda instance pays)
- seconds from starting `python -m local.run` to the first storefront page
- the sale under injected faults (bench/sale_under_faults.py): false
  sold-outs, failed answers and leaked places
- a high-demand on-sale, quick size (bench/onsale.py, which also writes
  bench/results/onsale.json and onsale.md; `python -m bench.onsale full`
  for the full size)
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"


def import_microseconds(statement: str, package: Path | None = None) -> int:
    """Cumulative import time of the top-level modules `statement` imports
    (the interpreter's own start-up imports, up to `site`, are not counted).
    `package`: from an unpacked deployment package first, as in Lambda
    (which cannot write __pycache__)."""
    env = {**os.environ, "LOKET_STAGE": "local", "AWS_DEFAULT_REGION": "eu-west-1"}
    if package is not None:
        env.update(PYTHONPATH=str(package), PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], cwd=package or ROOT, env=env,
                            capture_output=True, text=True, check=True)
    total = 0
    started = False
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if len(name) - len(name.lstrip()) == 1:  # top level: imported by the statement itself
            if started:
                total += int(cumulative)
            started = started or name.strip() == "site"
    return total


def median_ms(statement: str, runs: int = 5) -> float:
    return round(statistics.median(import_microseconds(statement) for _ in range(runs)) / 1000, 1)


BASELINE_IMPORT = "import boto3, pydantic, chalice"


def import_ms(runs: int = 5) -> dict[str, float]:
    """Cold-start import time of app.py against what it cannot do without
    (issue 10: app at most 1.3x the baseline). Runs alternate, so a busy
    moment slows both sides, and each side's median of `runs` is kept."""
    samples: dict[str, list[int]] = {"boto3": [], "baseline_boto3_pydantic_chalice": [], "app": []}
    for _ in range(runs):
        for key, statement in (("boto3", "import boto3"), ("baseline_boto3_pydantic_chalice", BASELINE_IMPORT),
                               ("app", "import app")):
            samples[key].append(import_microseconds(statement))
    result = {key: round(statistics.median(values) / 1000, 1) for key, values in samples.items()}
    result["ratio"] = round(result["app"] / result["baseline_boto3_pydantic_chalice"], 2)
    return result


def packaged_import_ms(runs: int = 5) -> dict[str, dict[str, float]]:
    """The same, from the deployment package `make package` builds (local/deploy.py),
    unpacked twice: its sources only (as chalice packages them) and with the
    bytecode add_bytecode adds. What a fresh Lambda instance pays before its
    first answer."""
    import tempfile
    import zipfile

    from local.deploy import package

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        package("dev", out / "out")
        variants = {"sources_only": out / "sources", "with_bytecode": out / "bytecode"}
        with zipfile.ZipFile(out / "out" / "deployment.zip") as deployment:
            names = deployment.namelist()
            deployment.extractall(variants["sources_only"], [n for n in names if not n.endswith(".pyc")])
            deployment.extractall(variants["with_bytecode"], names)
        samples: dict[tuple[str, str], list[int]] = {}
        for _ in range(runs):
            for variant, directory in variants.items():
                for key, statement in (("baseline_boto3_pydantic_chalice", BASELINE_IMPORT), ("app", "import app")):
                    samples.setdefault((variant, key), []).append(import_microseconds(statement, directory))
    result: dict[str, dict[str, float]] = {}
    for (variant, key), values in samples.items():
        result.setdefault(variant, {})[key] = round(statistics.median(values) / 1000, 1)
    for numbers in result.values():
        numbers["ratio"] = round(numbers["app"] / numbers["baseline_boto3_pydantic_chalice"], 2)
    return result


def seconds_to_first_page() -> float:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "local.run", "--port", str(port), "--moto-port", "0",
                                "--stripe-port", "0"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - started < 180:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    if response.status == 200:
                        return round(time.monotonic() - started, 2)
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("no page")
    finally:
        process.terminate()
        process.wait(timeout=30)


def sale_under_faults() -> dict:
    """In its own process: it starts a local stack of its own."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, "-m", "bench.sale_under_faults", out.name], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return json.loads(Path(out.name).read_text())


def onsale(size: str = "quick") -> dict:
    """bench/onsale.py in its own process (its own stack); it writes
    bench/results/onsale.json and .md itself."""
    subprocess.run([sys.executable, "-m", "bench.onsale", size], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads((ROOT / "bench" / "results" / "onsale.json").read_text())[size]


def main() -> None:
    results = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "import_ms": import_ms(),
        "import_ms_from_the_deployment_package": packaged_import_ms(),
        "make_run_seconds_to_first_page": seconds_to_first_page(),
        "sale_under_faults": sale_under_faults(),
        "onsale_quick": {k: v for k, v in onsale("quick").items() if k not in ("prices_usd", "how")},
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
