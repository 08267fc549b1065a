"""SES bounce and complaint reports, from each venue's own SNS topic
(`loket-{stage}-venue-{slug}-mail-events`, infra/venue.yaml), recorded in
that venue's table on that venue's role (services/mail_feedback.py).

An error raises, so Lambda's asynchronous retries deliver the report again;
recording is idempotent per (message, time, type).
"""

from __future__ import annotations

import json
import re
from typing import Any

from chalicelib import bootstrap
from chalicelib.domain.mail_feedback import parse
from chalicelib.observability import logger
from chalicelib.settings import get_settings


def venue_of_topic(topic_arn: str) -> str | None:
    name = topic_arn.rpartition(":")[2]
    found = re.fullmatch(rf"loket-{re.escape(get_settings().stage)}-venue-([a-z0-9][a-z0-9-]*)-mail-events", name)
    return found.group(1) if found else None


def handle(event: dict[str, Any], context: Any = None) -> dict[str, int]:
    from chalicelib.services import mail_feedback

    recorded = 0
    for record in event.get("Records", []):
        sns = record.get("Sns") or {}
        venue = venue_of_topic(sns.get("TopicArn", ""))
        registered = bootstrap.network().get_venue(venue) if venue else None
        feedback = parse(json.loads(sns.get("Message") or "{}"))
        if not registered or feedback is None:
            logger.info("mail event ignored", extra={"venue": venue, "known_venue": bool(registered)})
            continue
        recorded += mail_feedback.record(bootstrap.worker_store(venue), feedback)
    return {"recorded": recorded}
