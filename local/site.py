"""The storefront's files as the edge serves them, in AWS and locally.

`make deploy` and the local stack upload the same files with the same
Content-Type and Cache-Control (`upload_site`); the local edge adds the
response headers the CloudFront distribution adds (`security_headers`, read
from infra/edge.yaml), so what a browser gets here is what it gets from
CloudFront.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STOREFRONT = ROOT / "storefront"
EDGE_TEMPLATE = ROOT / "infra" / "edge.yaml"

# Pages are revalidated on every visit (a deploy shows at once); assets keep
# their names across deploys (no hashes), so browsers and the edge keep them
# only 5 minutes. The catalogue JSON is written by the app with its own
# max-age (adapters/catalogue_store.py), images as immutable.
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300"
TYPES = {".js": "application/javascript", ".mjs": "application/javascript", ".json": "application/json",
         ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml", ".webp": "image/webp",
         ".ico": "image/x-icon", ".woff2": "font/woff2", ".txt": "text/plain", ".webmanifest": "application/manifest+json"}


@dataclass(frozen=True)
class SiteObject:
    key: str
    path: Path
    content_type: str
    cache_control: str


def content_type_of(path: Path) -> str:
    content_type = TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in ("application/javascript", "application/json",
                                                            "image/svg+xml", "application/manifest+json"):
        content_type += "; charset=utf-8"
    return content_type


# Short addresses staff type by hand: the same page stored under a second key
# (CloudFront and the local edge serve keys as they are; staff pages link
# their assets by absolute path, so they work from either address).
PAGE_ALIASES = {"staff": "staff/index.html", "admin": "staff/index.html", "kassa": "staff/kassa.html"}


def generated_objects() -> list[SiteObject]:
    """What the site gets from the code rather than from storefront/: the API's
    OpenAPI description, `docs/openapi.json`, next to its page docs/api.html
    (docs/integrations.md). Written atomically: two test workers may build it at once."""
    import json
    import os
    import tempfile

    import app as chalice_app
    from chalicelib.api import openapi

    path = ROOT / "build" / "site" / "docs" / "openapi.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as spec:
        json.dump(openapi.build(chalice_app.app), spec, indent=1)
    os.chmod(spec.name, 0o644)
    os.replace(spec.name, path)
    return [SiteObject(key="docs/openapi.json", path=path, content_type=content_type_of(path), cache_control=PAGE_CACHE)]


def site_objects(root: Path = STOREFRONT) -> list[SiteObject]:
    objects = [SiteObject(key=path.relative_to(root).as_posix(), path=path, content_type=content_type_of(path),
                          cache_control=PAGE_CACHE if path.suffix == ".html" else ASSET_CACHE)
               for path in sorted(root.rglob("*")) if path.is_file()]
    return objects + [SiteObject(key=alias, path=root / page, content_type=content_type_of(root / page),
                                 cache_control=PAGE_CACHE)
                      for alias, page in PAGE_ALIASES.items() if (root / page).is_file()] + (
        generated_objects() if root == STOREFRONT else [])


def upload_site(s3: Any, bucket: str, root: Path = STOREFRONT) -> int:
    objects = site_objects(root)
    for item in objects:
        s3.put_object(Bucket=bucket, Key=item.key, Body=item.path.read_bytes(), ContentType=item.content_type,
                      CacheControl=item.cache_control)
    return len(objects)


@lru_cache(maxsize=1)
def security_headers() -> dict[str, str]:
    """The headers infra/edge.yaml's SecurityHeadersPolicy makes CloudFront add."""
    from cfnlint.decode import decode

    template, errors = decode(str(EDGE_TEMPLATE))
    if errors:
        raise RuntimeError(f"infra/edge.yaml does not parse: {errors}")
    config = template["Resources"]["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    headers = {}
    if "StrictTransportSecurity" in security:
        hsts = security["StrictTransportSecurity"]
        headers["Strict-Transport-Security"] = f"max-age={hsts['AccessControlMaxAgeSec']}" + (
            "; includeSubDomains" if hsts.get("IncludeSubdomains") else "")
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    if "FrameOptions" in security:
        headers["X-Frame-Options"] = security["FrameOptions"]["FrameOption"]
    if "ReferrerPolicy" in security:
        headers["Referrer-Policy"] = security["ReferrerPolicy"]["ReferrerPolicy"]
    return headers
