"""The catalogue as the API's own identity sees it in S3."""

import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters import aws, catalogue_store
from chalicelib.settings import get_settings


def test_a_missing_catalogue_document_is_not_published_yet(loket):
    s3 = aws.client("s3")
    with pytest.raises(ClientError) as refused:  # as S3 answers a caller without s3:ListBucket
        s3.get_object(Bucket=get_settings().site_bucket, Key="catalogue/venues/not-published.json")
    assert refused.value.response["Error"]["Code"] in ("AccessDenied", "403")
    assert catalogue_store.get_document("venues/not-published.json") is None
    catalogue_store.put_document("venues/now-published.json", {"slug": "now-published"})
    assert catalogue_store.get_document("venues/now-published.json") == {"slug": "now-published"}
