"""Operator commands for a running stage (docs/operations.md). They run with
the operator's AWS credentials, against AWS or, with AWS_ENDPOINT_URL set, the
local moto stack: the same code either way.

  redrive        move messages from a queue's dead-letter queue back to it
  purge-venue    delete what an offboarded venue's stack retained (table,
                 queues), only once its export is complete
  restore-venue  bring an offboarded venue back from its export into a
                 fresh venue stack

    python -m local.ops redrive --stage prod --queue payment-events
    python -m local.ops redrive --stage prod --queue concertzaal:webhooks
    python -m local.ops purge-venue --stage prod --venue kaap --export s3://.../venues/kaap/exports/20261130T...
    python -m local.ops restore-venue --stage prod --venue kaap --export s3://.../venues/kaap/exports/20261130T...
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any
from urllib.parse import urlsplit

from chalicelib.adapters import aws, provisioning, venue_export
from chalicelib.adapters.dynamo import marshal

REGION_DEFAULT = "eu-west-1"


def queue_names(stage: str, queue: str) -> tuple[str, str]:
    """(queue, its dead-letter queue) for `payment-events` or `{venue}:webhooks|onsale`."""
    if queue == "payment-events":
        return f"loket-{stage}-payment-events", f"loket-{stage}-payment-events-dlq"
    venue, _, kind = queue.partition(":")
    if kind == "webhooks":
        return f"loket-{stage}-venue-{venue}-webhooks", f"loket-{stage}-venue-{venue}-webhooks-dlq"
    if kind == "onsale":
        return f"loket-{stage}-venue-{venue}-onsale.fifo", f"loket-{stage}-venue-{venue}-onsale-dlq.fifo"
    raise SystemExit(f"unknown queue {queue!r}: payment-events, VENUE:webhooks or VENUE:onsale")


def redrive(sqs: Any, dead_letter_url: str, target_url: str, *, limit: int | None = None) -> int:
    """Move messages back, each sent before it is deleted (a crash in between
    sends one twice, which every consumer here tolerates: they are idempotent).
    FIFO messages keep their group and deduplication id. Returns how many moved.
    (SQS's own StartMessageMoveTask does the same for standard queues; this
    also serves FIFO queues and the local stack.)"""
    fifo = target_url.endswith(".fifo")
    moved = 0
    while limit is None or moved < limit:
        batch = sqs.receive_message(QueueUrl=dead_letter_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                    AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return moved
        for message in batch:
            send: dict[str, Any] = {"QueueUrl": target_url, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                send["MessageAttributes"] = message["MessageAttributes"]
            if fifo:
                send["MessageGroupId"] = message["Attributes"]["MessageGroupId"]
                send["MessageDeduplicationId"] = message["Attributes"].get("MessageDeduplicationId",
                                                                           message["MessageId"])
            sqs.send_message(**send)
            sqs.delete_message(QueueUrl=dead_letter_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def _s3_location(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc:
        raise SystemExit(f"--export must be s3://bucket/venues/VENUE/exports/STAMP, not {uri!r}")
    return parts.netloc, parts.path.strip("/")


def purge_venue(session: Any, stage: str, venue: str, export_uri: str) -> dict[str, Any]:
    """Delete the table and queues an offboarded venue's stack retained, only
    if its stack is gone and the export holds as many items as the table."""
    bucket, prefix = _s3_location(export_uri)
    manifest, _ = venue_export.read_export(session.client("s3"), bucket, prefix)
    if manifest["venue"] != venue:
        raise SystemExit(f"that export is of {manifest['venue']!r}, not {venue!r}")
    status, _ = provisioning.stack_state(session.client("cloudformation"), f"loket-{stage}-venue-{venue}")
    if status not in (None, "DELETE_COMPLETE"):
        raise SystemExit(f"the venue's stack is still there ({status}): offboard the venue first")
    db, table = aws.client("dynamodb", session), f"loket-{stage}-venue-{venue}"
    present = sum(1 for _ in venue_export.scan_items(db, table))
    if present > manifest["item_count"]:
        raise SystemExit(f"{table} holds {present} items, the export {manifest['item_count']}: written after the "
                         f"export; export again (or restore) before deleting")
    db.delete_table(TableName=table)
    sqs = session.client("sqs")
    deleted_queues = []
    for kind in ("webhooks", "onsale"):
        for name in queue_names(stage, f"{venue}:{kind}"):
            try:
                sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
                deleted_queues.append(name)
            except sqs.exceptions.QueueDoesNotExist:
                pass
    return {"table": table, "items": present, "queues": deleted_queues}


def restore_venue(session: Any, stage: str, venue: str, export_uri: str, *, poll: float = 5) -> dict[str, Any]:
    """An offboarded venue back from its export: registered again (as
    `provisioning`, with its exported registry entry: same Stripe account),
    a fresh venue stack, every item written back. The every-minute job then
    activates it (its exported secret is kept, so its ticket codes stay valid)."""
    bucket, prefix = _s3_location(export_uri)
    manifest, items = venue_export.read_export(session.client("s3"), bucket, prefix)
    if manifest["venue"] != venue:
        raise SystemExit(f"that export is of {manifest['venue']!r}, not {venue!r}")
    cfn = session.client("cloudformation")
    _, platform = provisioning.stack_state(cfn, f"loket-{stage}-platform")
    if not platform:
        raise SystemExit(f"no platform stack loket-{stage}-platform")
    entry = {**manifest["registry_entry"], "slug": venue, "status": "provisioning", "restored_from": export_uri}
    # Loket's DynamoDB client: contention (TransactionConflict, throttling) is retried as everywhere.
    db = aws.client("dynamodb", session)
    try:
        db.put_item(TableName=platform["NetworkTableName"],
                    Item=marshal({"pk": "VENUES", "sk": f"VENUE#{venue}", **entry}),
                    ConditionExpression="attribute_not_exists(pk)")
    except db.exceptions.ConditionalCheckFailedException:
        raise SystemExit(f"a venue {venue!r} is registered: restore only an offboarded venue") from None
    local = platform.get("LocalApiAccessKeyId") is not None
    region = session.region_name or REGION_DEFAULT
    account = platform["ApiFunctionRoleArn"].split(":")[4]
    function = f"arn:aws:lambda:{region}:{account}:function:loket-{stage}-"
    bucket_of_templates = platform["ArtifactsBucketName"]
    parameters = provisioning.venue_stack_parameters(
        stage=stage, venue=venue, trusted_principal_arn=platform["ApiPrincipalArn"],
        onsale_worker_arn="" if local else function + "onsale_worker",
        mail_domain="" if local else os.environ.get("LOKET_MAIL_DOMAIN", ""),
        mail_events_worker_arn="" if local or not os.environ.get("LOKET_MAIL_DOMAIN") else function + "mail_events")
    provisioning.deploy_stack(
        cfn, f"loket-{stage}-venue-{venue}", parameters, role_arn=platform["VenueProvisionerRoleArn"],
        template_url=f"https://{bucket_of_templates}.s3.{region}.amazonaws.com/templates/venue.yaml", poll=poll)
    written = venue_export.write_items(db, manifest["table"], items)
    return {"venue": venue, "table": manifest["table"], "items_written": written, "counts": manifest["counts"]}


def main(argv: list[str] | None = None) -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("redrive")
    command.add_argument("--stage", required=True)
    command.add_argument("--queue", required=True, help="payment-events, VENUE:webhooks or VENUE:onsale")
    for name in ("purge-venue", "restore-venue"):
        command = commands.add_parser(name)
        for flag in ("--stage", "--venue", "--export"):
            command.add_argument(flag, required=True)
    args = parser.parse_args(argv)
    session = boto3.Session()
    if args.command == "redrive":
        sqs = session.client("sqs")
        target, dead_letter = queue_names(args.stage, args.queue)
        moved = redrive(sqs, sqs.get_queue_url(QueueName=dead_letter)["QueueUrl"],
                        sqs.get_queue_url(QueueName=target)["QueueUrl"])
        print(json.dumps({"from": dead_letter, "to": target, "moved": moved}))
    elif args.command == "purge-venue":
        print(json.dumps(purge_venue(session, args.stage, args.venue, args.export)))
    else:
        print(json.dumps(restore_venue(session, args.stage, args.venue, args.export)))


if __name__ == "__main__":
    main()
