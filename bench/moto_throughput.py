"""How many requests per second the local moto process answers (`make bench`).

    python -m bench.moto_throughput [out.json] [--processes N] [--threads N] [--seconds S]

Starts the local stack with moto in its own process (IAM enforced, no injected
faults), onboards one venue, and drives that process with a mix like the
on-sale's, signed with the venue role's assumed-role credentials and built
with the app's own client settings (chalicelib/adapters/aws.py):

- SQS SendMessageBatch, one entry, into the venue's FIFO on-sale queue;
- DynamoDB GetItem, a conditional UpdateItem, a BatchGetItem of 4 keys, a
  2-item TransactWriteItems (each client thread on items of its own, so no
  request waits on a real conflict);
- S3 GetObject of a small ticket document.

Clients run in several processes (threads in each) so the client side's own
interpreter lock is not what is measured. Reports requests/s per operation
and in total, and the moto process's CPU milliseconds per request (from
/proc), over several windows on one stack (the median window is kept), and
writes bench/results/moto_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "moto_throughput.json"
VENUE = "club-kaap"
# One round per thread: the on-sale's join burst is SQS sends; the rest is reads and conditional writes.
MIX = ["send_message_batch", "send_message_batch", "get_item", "get_item", "update_item", "batch_get_item",
       "transact_write_items", "get_object"]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _client_process(target: dict[str, Any], threads: int, worker: int, start_at: float, stop_at: float,
                    results: Any) -> None:
    import threading

    import boto3
    from botocore.exceptions import ClientError

    sys.path.insert(0, str(ROOT))
    from chalicelib.adapters import aws

    session = boto3.Session(aws_access_key_id=target["access_key"], aws_secret_access_key=target["secret_key"],
                            aws_session_token=target["session_token"], region_name=target["region"])
    table, queue_url, bucket, document = target["table"], target["queue_url"], target["bucket"], target["document"]
    counts: dict[str, int] = {}
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def run(thread: int) -> None:
        dynamodb = aws.client("dynamodb", session)
        sqs, s3 = aws.client("sqs", session), aws.client("s3", session)
        own = f"BENCH#{worker}-{thread}"
        keys = [{"pk": {"S": own}, "sk": {"S": f"ITEM#{i}"}} for i in range(4)]
        for item in keys:
            dynamodb.put_item(TableName=table, Item={**item, "n": {"N": "0"}})
        calls = {
            "send_message_batch": lambda: sqs.send_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": "0", "MessageBody": '{"bench":true}', "MessageGroupId": own,
                 "MessageDeduplicationId": uuid.uuid4().hex}]),
            "get_item": lambda: dynamodb.get_item(TableName=table, Key=keys[0]),
            "update_item": lambda: dynamodb.update_item(
                TableName=table, Key=keys[1], UpdateExpression="SET n = n + :one",
                ConditionExpression="attribute_exists(pk) AND n >= :zero",
                ExpressionAttributeValues={":one": {"N": "1"}, ":zero": {"N": "0"}}),
            "batch_get_item": lambda: dynamodb.batch_get_item(RequestItems={table: {"Keys": keys}}),
            "transact_write_items": lambda: dynamodb.transact_write_items(TransactItems=[
                {"Update": {"TableName": table, "Key": key, "UpdateExpression": "SET n = n + :one",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}} for key in keys[2:]]),
            "get_object": lambda: s3.get_object(Bucket=bucket, Key=document)["Body"].read(),
        }
        mine: dict[str, int] = dict.fromkeys(calls, 0)
        failed: dict[str, int] = {}
        while time.time() < start_at:
            time.sleep(0.005)
        turn = thread
        while time.time() < stop_at:
            operation = MIX[turn % len(MIX)]
            turn += 1
            try:
                calls[operation]()
            except ClientError as error:
                code = f"{operation}:{error.response['Error']['Code']}"
                failed[code] = failed.get(code, 0) + 1
                continue
            if time.time() < stop_at:
                mine[operation] += 1
        with lock:
            for name, count in mine.items():
                counts[name] = counts.get(name, 0) + count
            for name, count in failed.items():
                errors[name] = errors.get(name, 0) + count

    started_cpu = time.process_time()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    results.put({"counts": counts, "errors": errors, "cpu_s": time.process_time() - started_cpu})


def measure(stack: Any, processes: int = 2, threads: int = 8, seconds: float = 20.0) -> dict[str, Any]:
    """Drive the moto process of a running local stack (moto in its own process)."""
    from chalicelib.adapters import aws, tenancy
    from chalicelib.settings import get_settings
    from local.moto_support import ACCOUNT_ID

    session = tenancy.venue_session(VENUE)
    credentials = session.get_credentials()
    table = tenancy.venue_table_name(VENUE)
    queue_url = aws.client("sqs", session).get_queue_url(
        QueueName=f"loket-{get_settings().stage}-venue-{VENUE}-onsale.fifo")["QueueUrl"]
    bucket = f"loket-{get_settings().stage}-documents-{ACCOUNT_ID}"
    document = f"venues/{VENUE}/bench/ticket.pdf"
    aws.client("s3", session).put_object(Bucket=bucket, Key=document, Body=b"%PDF-1.7\n" + b"x" * 2048)
    target = {"access_key": credentials.access_key, "secret_key": credentials.secret_key,
              "session_token": credentials.token, "region": get_settings().region, "table": table,
              "queue_url": queue_url, "bucket": bucket, "document": document}

    # The on-sale worker drains this queue as it goes; here each window starts
    # from an empty queue (moto's FIFO deduplication scans every queued message).
    stack.operator.client("sqs", endpoint_url=stack.aws.endpoint).purge_queue(QueueUrl=queue_url)
    moto_pid = stack.aws.server.process.pid
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    warmup = 4.0 + processes  # spawned interpreters import boto3 and create their items first
    start_at = time.time() + warmup
    stop_at = start_at + seconds
    children = [context.Process(target=_client_process, args=(target, threads, i, start_at, stop_at, results))
                for i in range(processes)]
    for child in children:
        child.start()
    while time.time() < start_at:
        time.sleep(0.01)
    cpu_before, wall_before = _cpu_seconds(moto_pid), time.monotonic()
    while time.time() < stop_at:
        time.sleep(0.01)
    cpu_after, wall = _cpu_seconds(moto_pid), time.monotonic() - wall_before
    answers = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=60)
    counts: dict[str, int] = {}
    errors: dict[str, int] = {}
    for answer in answers:
        for name, count in answer["counts"].items():
            counts[name] = counts.get(name, 0) + count
        for name, count in answer["errors"].items():
            errors[name] = errors.get(name, 0) + count
    total = sum(counts.values())
    moto_cpu = cpu_after - cpu_before
    client_cpu = sum(answer["cpu_s"] for answer in answers)
    return {
        "client_processes": processes,
        "client_threads_per_process": threads,
        "seconds": round(wall, 1),
        "requests_per_s": {name: round(count / wall, 1) for name, count in sorted(counts.items())},
        "total_requests_per_s": round(total / wall, 1),
        "errors": errors,
        "moto_cpu_ms_per_request": round(1000 * moto_cpu / total, 2) if total else None,
        "moto_cpu_utilisation": round(moto_cpu / wall, 2),
        # includes each client process's start-up and item creation, so an upper bound
        "client_cpu_ms_per_request": round(1000 * client_cpu / total, 2) if total else None,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(RESULTS))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3, help="measurement windows on one stack; the median is kept")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from local import demo, stack as local_stack

    stack = local_stack.start(moto_in_own_process=True)
    try:
        local_stack.onboard_venue({**next(v for v in demo.VENUES if v["slug"] == VENUE), "city": "Brugge"})
        stack.configure_faults("off")
        runs = [measure(stack, args.processes, args.threads, args.seconds) for _ in range(args.runs)]
        median = sorted(runs, key=lambda run: run["total_requests_per_s"])[len(runs) // 2]
        result = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "mix": MIX, "runs": len(runs),
                  "total_requests_per_s_each_run": [run["total_requests_per_s"] for run in runs],
                  "median_run": median}
    finally:
        stack.stop()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
