"""The API identity cannot escalate beyond what its policy names.

Issue 5 found this path on the local stack with IAM on: the API created a
`loket-{stage}-venue-*` stack from its own template through the provisioner
service role, the template made a role trusting the API with `*:*`, the API
assumed it. Every step of that path must now answer 403, while onboarding a
venue through the API keeps working.

The local stand-in refuses these calls because local/moto_iam.py makes moto
evaluate conditions, NotResource, permissions boundaries, the implied
iam:PassRole and the CloudFormation service role, as AWS does.
"""

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters import aws, provisioning

NAMED_IAM = ["CAPABILITY_NAMED_IAM"]
SETTINGS_KEY = {"pk": {"S": "SETTINGS"}, "sk": {"S": "SETTINGS"}}


def _refused(call):
    with pytest.raises(ClientError) as error:
        call()
    response = error.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403, response
    assert response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException", "403"), response


def _evil_template(trusted: str, role_name: str = "loket-local-venue-evil", boundary: str | None = None) -> str:
    role = {"RoleName": role_name, "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]}}
    if boundary:
        role["PermissionsBoundary"] = boundary
    return json.dumps({"Resources": {
        "Evil": {"Type": "AWS::IAM::Role", "Properties": role},
        "EvilPolicy": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "everything", "Roles": [{"Ref": "Evil"}],
            "PolicyDocument": {"Version": "2012-10-17",
                               "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}}}})


def _role_names(loket) -> set[str]:
    return {r["RoleName"] for r in loket.operator.client("iam").list_roles()["Roles"]}


def _venue_parameters(loket, venue: str, stage: str = "local") -> list[dict]:
    values = {"Stage": stage, "VenueSlug": venue, "TrustedPrincipalArn": loket.outputs["ApiPrincipalArn"]}
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


@pytest.fixture(scope="module")
def evil_url(loket):
    """The evil template where the API may write: the catalogue prefix of the site bucket."""
    site = loket.outputs["SiteBucketName"]
    aws.client("s3").put_object(Bucket=site, Key="catalogue/evil.yaml",
                                Body=_evil_template(loket.outputs["ApiPrincipalArn"]).encode())
    yield f"https://{site}.s3.eu-west-1.amazonaws.com/catalogue/evil.yaml"
    aws.client("s3").delete_object(Bucket=site, Key="catalogue/evil.yaml")


def test_a_venue_stack_from_any_template_body_is_refused(loket):
    cfn = aws.client("cloudformation")
    evil = _evil_template(loket.outputs["ApiPrincipalArn"])
    _refused(lambda: cfn.create_stack(StackName="loket-local-venue-evil", TemplateBody=evil,
                                      RoleARN=loket.outputs["VenueProvisionerRoleArn"], Capabilities=NAMED_IAM))
    _refused(lambda: cfn.create_stack(StackName="loket-local-venue-evil", TemplateBody=evil, Capabilities=NAMED_IAM))
    assert "loket-local-venue-evil" not in _role_names(loket)


def test_a_venue_stack_from_a_template_url_outside_the_platform_is_refused(loket, evil_url):
    cfn = aws.client("cloudformation")
    platform_url = loket.outputs["VenueTemplateUrl"]
    for url in (evil_url, platform_url + "?versionId=1", platform_url.replace("/templates/", "/templates/../")):
        _refused(lambda: cfn.create_stack(StackName="loket-local-venue-evil", TemplateURL=url,
                                          RoleARN=loket.outputs["VenueProvisionerRoleArn"], Capabilities=NAMED_IAM))
    assert "loket-local-venue-evil" not in _role_names(loket)


def test_the_platform_template_runs_only_as_the_provisioner(loket):
    cfn = aws.client("cloudformation")
    stack = dict(StackName="loket-local-venue-norole", TemplateURL=loket.outputs["VenueTemplateUrl"],
                 Parameters=_venue_parameters(loket, "norole"), Capabilities=NAMED_IAM)
    _refused(lambda: cfn.create_stack(**stack))
    _refused(lambda: cfn.create_stack(**stack, RoleARN=loket.outputs["ApiFunctionRoleArn"]))


def test_an_existing_venue_stack_cannot_be_switched_to_another_template(loket, evil_url):
    cfn = aws.client("cloudformation")
    stack = dict(StackName="loket-local-venue-concertzaal", RoleARN=loket.outputs["VenueProvisionerRoleArn"],
                 Parameters=_venue_parameters(loket, "concertzaal"), Capabilities=NAMED_IAM)
    _refused(lambda: cfn.update_stack(**stack, TemplateBody=_evil_template(loket.outputs["ApiPrincipalArn"])))
    _refused(lambda: cfn.update_stack(**stack, TemplateURL=evil_url))
    _refused(lambda: cfn.update_stack(**stack, UsePreviousTemplate=True))
    assert "loket-local-venue-evil" not in _role_names(loket)
    # The platform's own template stays allowed: that is how venue stacks are upgraded.
    provisioning.start_venue_stack(cfn, stage="local", venue="concertzaal",
                                   template_url=loket.outputs["VenueTemplateUrl"],
                                   provisioner_role_arn=loket.outputs["VenueProvisionerRoleArn"],
                                   trusted_principal_arn=loket.outputs["ApiPrincipalArn"])


def test_the_api_cannot_assume_the_provisioner_or_any_role_but_a_venue_role(loket):
    provisioner = loket.outputs["VenueProvisionerRoleArn"]
    assert not provisioner.split("/")[-1].startswith("loket-local-venue-"), "the provisioner is outside venue names"
    sts = aws.client("sts")
    for role in (provisioner, loket.outputs["ApiFunctionRoleArn"]):
        _refused(lambda: sts.assume_role(RoleArn=role, RoleSessionName="escalation"))
    assert sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/loket-local-venue-concertzaal",
                           RoleSessionName="loket-concertzaal")["Credentials"]


def test_the_api_has_no_iam_rights(loket):
    iam = aws.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": loket.outputs["ApiPrincipalArn"]}, "Action": "sts:AssumeRole"}]})
    everything = json.dumps({"Version": "2012-10-17",
                             "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    venue_role = "loket-local-venue-concertzaal"
    boundary = loket.outputs["VenueRoleBoundaryArn"]
    _refused(lambda: iam.create_role(RoleName="loket-local-venue-evil", AssumeRolePolicyDocument=trust,
                                     PermissionsBoundary=boundary))
    _refused(lambda: iam.put_role_policy(RoleName=venue_role, PolicyName="evil", PolicyDocument=everything))
    _refused(lambda: iam.attach_role_policy(RoleName=venue_role, PolicyArn=boundary))
    _refused(lambda: iam.update_assume_role_policy(RoleName=venue_role, PolicyDocument=trust))
    _refused(lambda: iam.delete_role_permissions_boundary(RoleName=venue_role))
    _refused(lambda: iam.create_policy_version(PolicyArn=boundary, PolicyDocument=everything, SetAsDefault=True))
    _refused(lambda: iam.create_access_key(UserName="loket-local-api-local"))
    provisioner = loket.outputs["VenueProvisionerRoleArn"].split("/")[-1]
    _refused(lambda: iam.update_assume_role_policy(RoleName=provisioner, PolicyDocument=trust))
    _refused(lambda: iam.put_role_policy(RoleName=provisioner, PolicyName="evil", PolicyDocument=everything))


def _session(credentials) -> boto3.Session:
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name="eu-west-1")


def test_venue_roles_carry_the_boundary_and_it_caps_them(loket):
    venue_role = "loket-local-venue-club-kaap"
    operator_iam = loket.operator.client("iam")
    role = operator_iam.get_role(RoleName=venue_role)["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == loket.outputs["VenueRoleBoundaryArn"]
    # A venue role that somehow got `*:*` (a bad template change, a console
    # click) still reaches only venue tables and queues.
    operator_iam.put_role_policy(RoleName=venue_role, PolicyName="mistake", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    try:
        session = _session(aws.client("sts").assume_role(
            RoleArn=role["Arn"], RoleSessionName="boundary-check")["Credentials"])
        assert "Item" in session.client("dynamodb").get_item(TableName=venue_role, Key=SETTINGS_KEY)
        _refused(lambda: session.client("iam").create_user(UserName="backdoor"))
        _refused(lambda: session.client("dynamodb").get_item(TableName="loket-local-network", Key=SETTINGS_KEY))
        _refused(lambda: session.client("s3").list_objects_v2(Bucket=loket.outputs["SiteBucketName"]))
        _refused(lambda: session.client("cloudformation").describe_stacks())
    finally:
        operator_iam.delete_role_policy(RoleName=venue_role, PolicyName="mistake")


def _stack_failed(cfn, name: str) -> str:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE", stack["StackStatus"]
    reasons = [e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(StackName=name)["StackEvents"]]
    cfn.delete_stack(StackName=name)
    return " ".join(reasons)


@pytest.mark.parametrize("case", ["no-boundary", "other-boundary", "outside-venue-names", "foreign-table"])
def test_the_provisioner_creates_only_bounded_roles_and_venue_resources(loket, case):
    """Even a template that got past the API's checks (here: pushed by the
    operator, who may pass any role) cannot make the provisioner create an
    unbounded role or touch anything outside the venue names."""
    cfn = loket.operator.client("cloudformation")
    boundary = loket.outputs["VenueRoleBoundaryArn"]
    api = loket.outputs["ApiPrincipalArn"]
    suffix = uuid.uuid4().hex[:6]
    template, denied = {
        "no-boundary": (_evil_template(api, f"loket-local-venue-probe-{suffix}"), "iam:CreateRole"),
        "other-boundary": (_evil_template(api, f"loket-local-venue-probe-{suffix}",
                                          boundary="arn:aws:iam::aws:policy/AdministratorAccess"), "iam:CreateRole"),
        "outside-venue-names": (_evil_template(api, f"loket-local-probe-{suffix}", boundary=boundary), "iam:CreateRole"),
        "foreign-table": (json.dumps({"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "TableName": f"loket-local-network-{suffix}", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}}}), "dynamodb:CreateTable"),
    }[case]
    name = f"loket-local-venue-probe-{suffix}"
    cfn.create_stack(StackName=name, TemplateBody=template, RoleARN=loket.outputs["VenueProvisionerRoleArn"],
                     Capabilities=NAMED_IAM)
    assert denied in _stack_failed(cfn, name)
    assert not {f"loket-local-venue-probe-{suffix}", f"loket-local-probe-{suffix}"} & _role_names(loket)
    assert f"loket-local-network-{suffix}" not in loket.operator.client("dynamodb").list_tables()["TableNames"]


def test_the_platform_template_for_another_stage_fails_under_the_provisioner(loket):
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="loket-local-venue-otherstage", TemplateURL=loket.outputs["VenueTemplateUrl"],
                     RoleARN=loket.outputs["VenueProvisionerRoleArn"], Capabilities=NAMED_IAM,
                     Parameters=_venue_parameters(loket, "otherstage", stage="prod"))
    _stack_failed(loket.operator.client("cloudformation"), "loket-local-venue-otherstage")
    assert "loket-prod-venue-otherstage" not in _role_names(loket)


def test_onboarding_through_the_api_still_works_with_a_bounded_venue_role(api, loket):
    admin = api.token("netwerk-admin")
    created = api.call("POST", "/network/venues", {"slug": "zaal-grens", "name": "Zaal Grens"}, token=admin)
    assert created.status_code == 202, created.data
    assert api.call("GET", "/network/venues/zaal-grens", token=admin).data["status"] == "active"
    stack = loket.operator.client("cloudformation").describe_stacks(StackName="loket-local-venue-zaal-grens")
    assert stack["Stacks"][0]["RoleARN"] == loket.outputs["VenueProvisionerRoleArn"]
    role = loket.operator.client("iam").get_role(RoleName="loket-local-venue-zaal-grens")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == loket.outputs["VenueRoleBoundaryArn"]
    exported = api.call("POST", "/network/venues/zaal-grens/offboarding", token=admin)  # the export first
    assert exported.status_code == 202, exported.data
    assert api.call("DELETE", f"/network/venues/zaal-grens?confirmation={exported.data['confirmation']}",
                    token=admin).status_code == 200
    assert "loket-local-venue-zaal-grens" not in _role_names(loket)


def test_the_local_condition_evaluator_follows_aws_semantics():
    """local/moto_iam.py: a missing key fails a positive operator and satisfies
    a negated one; values are alternatives; blocks and keys must all hold."""
    from local.moto_iam import conditions_hold

    url = "https://b.s3.eu-west-1.amazonaws.com/templates/venue.yaml"
    role = "arn:aws:iam::123456789012:role/loket-local-provisioner"
    context = {"cloudformation:templateurl": [url], "cloudformation:rolearn": [role]}
    pinned = {"StringEquals": {"cloudformation:TemplateUrl": url}, "ArnEquals": {"cloudformation:RoleArn": role}}
    assert conditions_hold(pinned, context)
    assert not conditions_hold(pinned, {"cloudformation:templateurl": [url]})
    assert not conditions_hold(pinned, {**context, "cloudformation:templateurl": [url + "?versionId=1"]})
    assert conditions_hold({"StringEquals": {"cloudformation:TemplateUrl": ["x", url]}}, context)
    assert conditions_hold({"StringNotEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}, {})
    assert not conditions_hold({"StringNotEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
                               {"iam:passedtoservice": ["cloudformation.amazonaws.com"]})
    assert conditions_hold({"ArnLike": {"cloudformation:RoleArn": "arn:aws:iam::*:role/loket-*"}}, context)
    assert not conditions_hold({"ArnLike": {"cloudformation:RoleArn": "arn:aws:iam::*:role/other-*"}}, context)
    assert conditions_hold({"StringLikeIfExists": {"iam:PermissionsBoundary": "arn:*"}}, {})
    assert conditions_hold({"Null": {"iam:PermissionsBoundary": "true"}}, {})
    with pytest.raises(NotImplementedError):
        conditions_hold({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, {})
