"""moto as strict as AWS for mail and ticket documents, and the local outbox.

Test support only, never deployed. `install()` (called by moto_support when
it makes moto strict) patches three points:

1. SES authorises `SendRawEmail` against the sending identity's ARN
   (`identity/{address}` if that address is verified, else
   `identity/{domain}`), as AWS does; moto checks "*", so a venue role that
   may send only as its own identity would be refused everything.
2. S3 accepts presigned (SigV4 query-string) GET URLs under IAM enforcement:
   moto expects an Authorization header and answers 500. The signature is
   checked here as S3 checks it (canonical request, expiry), then the signer's
   policies decide, so a tampered or expired link is refused with 403.
3. `GET /moto-api/loket/outbox` answers the messages SES has "sent", newest
   first, each with its raw MIME: the local edge's /outbox page reads it
   (local/outbox.py), whether moto runs in-process or in its own process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone
from email.utils import parseaddr
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

_installed = False


# -- 1. SES on the identity's ARN ------------------------------------------------------
def _ses_identity_resource(self: Any) -> str:
    if self._get_action() not in ("SendRawEmail", "SendEmail"):
        return "*"
    source = self._get_param("Source")
    if not source:
        raw = self._get_param("RawMessage.Data") or ""
        try:
            raw = base64.b64decode(raw).decode("utf-8", "replace")
        except ValueError:
            pass
        for line in raw.splitlines():
            if line.lower().startswith("from:"):
                source = line[5:].strip()
                break
    address = parseaddr(source or "")[1].lower()
    from moto.ses.models import ses_backends

    identities = ses_backends[self.current_account][self.region].email_identities
    identity = address if address in identities else address.rpartition("@")[2]
    return f"arn:aws:ses:{self.region}:{self.current_account}:identity/{identity or '*'}"


# -- 2. presigned S3 URLs ------------------------------------------------------------------
def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs if k != "X-Amz-Signature")
    return "&".join(f"{k}={v}" for k, v in encoded)


def presigned_signature(secret_key: str, method: str, host: str, path: str, query: list[tuple[str, str]]) -> str:
    """The SigV4 query-string signature S3 expects for this request."""
    params = dict(query)
    amz_date = params["X-Amz-Date"]
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    date, region, service, _ = scope.split("/")
    canonical = "\n".join([method, quote(path, safe="/-_.~%"), _canonical_query(query), f"host:{host}\n",
                           params.get("X-Amz-SignedHeaders", "host"), "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _authorize_presigned(self: Any, original: Any, bucket_name: str | None, key_name: str | None) -> None:
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import S3IAMRequest

    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        return original(self, bucket_name, key_name)
    parts = urlsplit(self.uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    credential = params["X-Amz-Credential"]
    headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, "
                                f"Signature={params.get('X-Amz-Signature', '')}"}
    if "X-Amz-Security-Token" in params:
        headers["X-Amz-Security-Token"] = params["X-Amz-Security-Token"]
    request = S3IAMRequest(account_id=self.current_account, method=self.method, path=parts.path, data=self.data,
                           body=self.raw_body, headers=headers, action=self._get_action())
    secret = request._access_key.create_credentials().secret_key
    host = self.headers.get("Host") or parts.netloc
    expected = presigned_signature(secret, self.method, host, parts.path, query)
    if not hmac.compare_digest(expected, params.get("X-Amz-Signature", "")):
        request._raise_signature_does_not_match()
    signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    if (datetime.now(timezone.utc) - signed_at).total_seconds() > int(params.get("X-Amz-Expires", "0")):
        request._raise_access_denied()
    arn = f"{bucket_name or '*'}/{key_name}" if key_name else (bucket_name or "*")
    request.check_action_permitted(f"arn:aws:s3:::{arn}")
    return None


def _install_presigned_s3() -> None:
    from moto.s3.responses import S3Response

    original = S3Response._authenticate_and_authorize_s3_action

    def authorize(self, bucket_name=None, key_name=None):  # noqa: ANN001 - moto's signature
        if "X-Amz-Signature=" in (urlsplit(self.uri).query or "") and "Authorization" not in self.headers:
            return _authorize_presigned(self, original, bucket_name, key_name)
        return original(self, bucket_name, key_name)

    S3Response._authenticate_and_authorize_s3_action = authorize


# -- 3. the outbox -------------------------------------------------------------------------
def sent_messages() -> list[dict[str, Any]]:
    """Every raw message SES sent in this moto, newest first."""
    from moto.ses.models import RawMessage, ses_backends

    found = []
    for account, regions in ses_backends.items():
        for region, backend in regions.items():
            for message in list(backend.sent_messages):
                if isinstance(message, RawMessage):
                    found.append({"id": message.id, "source": message.source, "raw": message.raw_data})
    found.reverse()  # appended in sending order (one region here)
    return found


def _outbox(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    return 200, {"Content-Type": "application/json"}, json.dumps({"messages": sent_messages()})


OUTBOX_PATH = "/moto-api/loket/outbox"


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.moto_api._internal import urls as moto_api_urls
    from moto.ses.responses import EmailResponse

    EmailResponse._determine_resource = _ses_identity_resource
    _install_presigned_s3()
    moto_api_urls.url_paths["{0}" + OUTBOX_PATH + "$"] = _outbox
    _installed = True
