"""Make moto's IAM evaluation refuse what AWS refuses where Loket's
no-escalation design depends on it (test support only, never deployed).

moto 5.2 evaluates identity policies by Action and Resource only. Out of the
box it:
- ignores `Condition` blocks in identity policies (it evaluates them only in
  role trust policies, StringEquals only, and skips unknown operators), and
  turns an Allow whose condition fails into an explicit Deny;
- ignores `NotResource` (a statement without `Resource` counts as matching
  everything, so a `Deny ... NotResource` would deny nothing and an
  `Allow ... NotResource` would allow everything);
- ignores permissions boundaries;
- never checks the `iam:PassRole` that AWS requires when a caller hands a
  service role to CloudFormation (`RoleARN`);
- lets CloudFormation create, update and delete resources without asking
  whether the stack's service role may do so.

`install()` patches exactly these points:

1. Statements: Action/NotAction (case-insensitive wildcards),
   Resource/NotResource (case-sensitive wildcards), Principal (trust policies)
   and Condition. A statement applies only if all of them match; an Allow or
   Deny whose condition is not met simply does not apply, as in AWS.
2. Conditions: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
   StringNotEqualsIgnoreCase, StringLike, StringNotLike, ArnEquals, ArnLike,
   ArnNotEquals, ArnNotLike, Bool and Null, each also with `IfExists`. As in
   AWS: a key missing from the request context fails a positive operator and
   satisfies a negated one; several values for a key are alternatives (OR);
   keys and operators within a block must all hold (AND). Any other operator
   raises NotImplementedError (a 500): a policy this stand-in cannot evaluate
   is loud, never silently allowed or denied.
3. Request context, taken from the request's parameters:
   `cloudformation:TemplateUrl` (TemplateURL), `cloudformation:RoleArn`
   (RoleARN), `iam:PermissionsBoundary` (the PermissionsBoundary parameter of
   CreateRole/PutRolePermissionsBoundary, or the boundary the target role
   already carries for PutRolePolicy, AttachRolePolicy, DeleteRolePolicy,
   DetachRolePolicy, DeleteRolePermissionsBoundary), `iam:PolicyARN`,
   `iam:PassedToService` (for the implied PassRole), `aws:PrincipalArn` and
   `aws:PrincipalAccount` (from the caller's credentials; also in trust
   policies, next to moto's own `sts:ExternalId`).
4. Permissions boundaries: an assumed-role session whose role carries a
   boundary is allowed an action only if both its policies and the boundary
   allow it.
5. iam:PassRole: CreateStack, UpdateStack, DeleteStack and CreateChangeSet
   with a RoleARN also need iam:PassRole on that role with
   `iam:PassedToService = cloudformation.amazonaws.com`.
6. IAM resources: IAM actions are authorised against the role, user or policy
   ARN named in the request, also when it does not exist yet (CreateRole),
   where moto uses "*".
7. CloudFormation service roles: while a stack that has a RoleARN creates,
   updates or deletes its resources, each resource is first checked against
   the service role's policies (and boundary) with the action AWS needs for
   it, the resource's ARN and its condition context (see `_service_role_needs`).
   A refusal ends the stack as AWS would: ROLLBACK_COMPLETE after a failed
   create (what was created is removed), UPDATE_ROLLBACK_FAILED after a
   failed update (moto cannot roll back; the resources already updated stay),
   DELETE_FAILED (the stack stays). Resource types this module does not know
   are refused: extend `_service_role_needs` before a venue template uses one.

What stays unenforced locally is listed in docs/decisions.md ("IAM: no
escalation").
"""

from __future__ import annotations

import contextvars
import functools
import logging
import re
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

_installed = False
_stack_role: contextvars.ContextVar[str | None] = contextvars.ContextVar("loket_stack_role", default=None)

CLOUDFORMATION = "cloudformation.amazonaws.com"
_PASSES_ROLE = {"CreateStack", "UpdateStack", "DeleteStack", "CreateChangeSet"}
# IAM actions whose iam:PermissionsBoundary is the one in the request...
_BOUNDARY_FROM_REQUEST = {"CreateRole", "PutRolePermissionsBoundary", "CreateUser", "PutUserPermissionsBoundary"}
# ...and those whose iam:PermissionsBoundary is the one the role already has.
_BOUNDARY_OF_ROLE = {"PutRolePolicy", "AttachRolePolicy", "DeleteRolePolicy", "DetachRolePolicy",
                     "DeleteRolePermissionsBoundary"}


class ServiceRoleDenied(Exception):
    """The stack's service role may not do what a resource of the stack needs."""


# --- wildcards and conditions ------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """Compiled once per pattern: every request checks dozens of them."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _wildcard_regex(pattern, ignore_case).fullmatch(value) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """ArnEquals/ArnLike: each of the six colon-separated parts matched on its own."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    return len(pattern_parts) == len(value_parts) == 6 and all(
        _wildcard(p, v) for p, v in zip(pattern_parts, value_parts))


_MATCHERS = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringEqualsIgnoreCase": lambda expected, actual: expected.lower() == actual.lower(),
    "StringLike": _wildcard,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "Bool": lambda expected, actual: expected.lower() == actual.lower(),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in (value if isinstance(value, list) else [value])]


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, list[str]]) -> bool:
    actual = context.get(key.lower())
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    if base != "Null" and base not in _MATCHERS and base not in _NEGATED:
        raise NotImplementedError(f"local/moto_iam.py cannot evaluate the IAM condition operator {operator}")
    if base == "Null":
        return (actual is None) == (_as_list(expected)[0].lower() == "true")
    if actual is None:
        return if_exists or base in _NEGATED
    if base in _NEGATED:
        match = _MATCHERS[_NEGATED[base]]
        return not any(match(e, a) for e in _as_list(expected) for a in actual)
    return any(_MATCHERS[base](e, a) for e in _as_list(expected) for a in actual)


def conditions_hold(conditions: dict[str, dict[str, Any]] | None, context: dict[str, list[str]]) -> bool:
    return all(_condition_holds(operator, key, expected, context)
               for operator, block in (conditions or {}).items()
               for key, expected in block.items())


def _normalise(context: dict[str, Any] | None) -> dict[str, list[str]]:
    return {key.lower(): _as_list(value) for key, value in (context or {}).items()}


# --- statements ----------------------------------------------------------------

def _principal_matches(expected: Any, principal: str) -> bool:
    if expected == "*":
        return True
    if not isinstance(expected, dict):
        return False
    account = principal.split(":")[4] if principal.count(":") >= 5 else ""
    for entry in _as_list(expected.get("AWS")):
        if entry in ("*", principal, account) or entry == f"arn:aws:iam::{account}:root":
            return True
    return False  # Service/Federated principals never match an IAM caller


def _statement_result(self: Any, action: str, resource: str = "*", principal: str | None = None,
                      incoming_condition_values: dict[str, Any] | None = None) -> Any:
    """Replaces moto's IAMPolicyStatement.is_action_permitted."""
    from moto.iam.access_control import PermissionResult

    statement = self._statement
    if "Action" in statement:
        action_matches = any(_wildcard(a, action, ignore_case=True) for a in _as_list(statement["Action"]))
    else:
        action_matches = not any(_wildcard(a, action, ignore_case=True) for a in _as_list(statement.get("NotAction")))
    if not action_matches:
        return PermissionResult.NEUTRAL
    if principal is not None and "Principal" in statement and not _principal_matches(statement["Principal"], principal):
        return PermissionResult.NEUTRAL
    if "Resource" in statement:
        if not any(_wildcard(r, resource) for r in _as_list(statement["Resource"])):
            return PermissionResult.NEUTRAL
    elif "NotResource" in statement:
        if any(_wildcard(r, resource) for r in _as_list(statement["NotResource"])):
            return PermissionResult.NEUTRAL
    if not conditions_hold(statement.get("Condition"), _normalise(incoming_condition_values)):
        return PermissionResult.NEUTRAL
    return PermissionResult.PERMITTED if statement["Effect"] == "Allow" else PermissionResult.DENIED


def _evaluate(policies: Iterable[Any], action: str, resource: str, context: dict[str, list[str]]) -> Any:
    """Explicit Deny wins, then any Allow, else the implicit deny (NEUTRAL).

    The answer depends only on the policies' text and the request, so it is
    remembered under exactly those (_evaluate_documents): a changed policy is
    a different text, and takes effect on the next request as in AWS."""
    policies = list(policies)
    documents = tuple(_document_text(policy) for policy in policies)
    if all(isinstance(document, str) for document in documents):
        return _evaluate_documents(documents, action, resource,
                                   tuple(sorted((key, tuple(values)) for key, values in context.items())))
    return _evaluate_uncached(policies, action, resource, context)


def _document_text(policy: Any) -> Any:
    """The policy document as IAMPolicy reads it: inline text, or a managed policy's default version."""
    from moto.iam.models import Policy

    if isinstance(policy, Policy):
        return next(version.document for version in policy.versions if version.is_default)
    if isinstance(policy, str):
        return policy
    return policy["policy_document"]


@functools.lru_cache(maxsize=16384)
def _evaluate_documents(documents: tuple[str, ...], action: str, resource: str,
                        context: tuple[tuple[str, tuple[str, ...]], ...]) -> Any:
    return _evaluate_uncached(documents, action, resource, {key: list(values) for key, values in context})


def _evaluate_uncached(policies: Iterable[Any], action: str, resource: str, context: dict[str, list[str]]) -> Any:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    permitted = False
    for policy in policies:  # inline text, a managed Policy or its dict: what IAMPolicy takes
        result = IAMPolicy(policy).is_action_permitted(action, resource, None, context)
        if result == PermissionResult.DENIED:
            return result
        permitted = permitted or result == PermissionResult.PERMITTED
    return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL


def _role_policies(backend: Any, role_name: str) -> list[Any]:
    role = backend.get_role(role_name)
    policies: list[Any] = [doc for _, doc in (backend.get_role_policy(role_name, name)
                                              for name in backend.list_role_policies(role_name))]
    policies += list(role.managed_policies.values())
    return policies


def _boundary_policy(backend: Any, role_name: str | None) -> Any:
    if not role_name:
        return None
    arn = backend.get_role(role_name).permissions_boundary_arn
    return backend.get_policy(arn) if arn else None


def _allowed(policies: list[Any], boundary: Any, action: str, resource: str, context: dict[str, list[str]]) -> bool:
    from moto.iam.access_control import PermissionResult

    if _evaluate(policies, action, resource, context) != PermissionResult.PERMITTED:
        return False
    return boundary is None or _evaluate([boundary], action, resource, context) == PermissionResult.PERMITTED


# --- requests --------------------------------------------------------------------

def _param(data: Any, name: str) -> str | None:
    value = (data or {}).get(name) if isinstance(data, dict) else None
    if isinstance(value, list):
        value = value[0] if value else None
    return value or None


def _existing_boundary(backend: Any, role_name: str | None) -> str | None:
    from moto.iam.exceptions import NotFoundException

    if not role_name:
        return None
    try:
        return backend.get_role(role_name).permissions_boundary_arn
    except NotFoundException:
        return None


def _request_context(request: Any) -> dict[str, list[str]]:
    service, _, operation = request._action.partition(":")
    data = request._data
    context: dict[str, Any] = {
        "aws:principalarn": request._access_key.arn,
        "aws:principalaccount": request.account_id,
    }
    if service == "cloudformation":
        context["cloudformation:templateurl"] = _param(data, "TemplateURL")
        context["cloudformation:rolearn"] = _param(data, "RoleARN")
    elif service == "iam":
        if operation in _BOUNDARY_FROM_REQUEST:
            context["iam:permissionsboundary"] = _param(data, "PermissionsBoundary")
        elif operation in _BOUNDARY_OF_ROLE:
            context["iam:permissionsboundary"] = _existing_boundary(request.backend, _param(data, "RoleName"))
        context["iam:policyarn"] = _param(data, "PolicyArn")
    return {key: [value] for key, value in context.items() if value}


def _caller_policies(request: Any) -> tuple[list[Any], Any]:
    from moto.iam.access_control import AssumedRoleAccessKey

    key = request._access_key
    boundary = _boundary_policy(request.backend, key._owner_role_name) if isinstance(key, AssumedRoleAccessKey) else None
    return key.collect_policies(), boundary


# AWS authorizes SQS batch calls with the single action's permission (there
# is no sqs:SendMessageBatch permission); moto asks for the batch action.
_AUTHORIZED_AS = {"sqs:SendMessageBatch": "sqs:SendMessage", "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
                  "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility"}


def _check_action_permitted(self: Any, resource: str) -> None:
    """Replaces moto's IAMRequestBase.check_action_permitted."""
    if self._action == "sts:GetCallerIdentity":  # always allowed, as in AWS
        return
    self._action = _AUTHORIZED_AS.get(self._action, self._action)
    policies, boundary = _caller_policies(self)
    context = _request_context(self)
    if not _allowed(policies, boundary, self._action, resource, context):
        self._raise_access_denied()
    if self._is_assuming_role_operation(resource) and not self._check_role_trust_relationship(resource):
        self._raise_access_denied()
    service, _, operation = self._action.partition(":")
    passed_role = _param(self._data, "RoleARN") if service == "cloudformation" and operation in _PASSES_ROLE else None
    if passed_role:
        pass_context = {**context, "iam:passedtoservice": [CLOUDFORMATION]}
        if not _allowed(policies, boundary, "iam:PassRole", passed_role, pass_context):
            self._raise_access_denied()


def _check_role_trust_relationship(self: Any, role_arn: str) -> bool:
    """moto's trust check, with the caller's principal keys in the context."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.iam.utils import format_incoming_conditional_values

    context = {**format_incoming_conditional_values(self._data),
               "aws:PrincipalArn": self._access_key.arn, "aws:PrincipalAccount": self.account_id}
    trust = IAMPolicy(self.backend.get_role_by_arn(role_arn).assume_role_policy_document)
    return trust.is_action_permitted(self._action, role_arn, self._access_key.arn, context) == PermissionResult.PERMITTED


def _iam_resource(self: Any) -> str:
    """The ARN AWS authorises an IAM request against (moto: "*" for new roles)."""
    def param(name: str) -> str | None:
        return _param(self.data, name)

    from moto.iam.exceptions import NotFoundException

    prefix = f"arn:{self.partition}:iam::{self.current_account}"
    if param("RoleName"):
        try:
            return self.backend.get_role(param("RoleName")).arn
        except NotFoundException:  # a role that does not exist yet
            return f"{prefix}:role{param('Path') or '/'}{param('RoleName')}"
    if param("UserName"):
        return f"{prefix}:user{param('Path') or '/'}{param('UserName')}"
    if param("PolicyArn"):
        return param("PolicyArn")  # type: ignore[return-value]
    if self._get_action() == "CreatePolicy" and param("PolicyName"):
        return f"{prefix}:policy{param('Path') or '/'}{param('PolicyName')}"
    return "*"


# --- CloudFormation service roles -----------------------------------------------------

def _names(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]


def _service_role_needs(kind: str, rtype: str, props: dict[str, Any], name: str, *, account: str, region: str,
                        iam: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, resource ARN, condition context) AWS checks against the stack's
    service role to create, update or delete one resource."""
    iam_arn = f"arn:aws:iam::{account}"

    def role_arn(role: str) -> str:
        return f"{iam_arn}:role{props.get('Path') or '/'}{role}" if role == name and rtype == "AWS::IAM::Role" \
            else f"{iam_arn}:role/{role}"

    def on_roles(action: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [(action, f"{iam_arn}:role/{role}", {"iam:permissionsboundary": _existing_boundary(iam, role)})
                for role in _names(props.get("Roles"))]

    if rtype == "AWS::IAM::Role":
        arn = role_arn(props.get("RoleName") or name)
        if kind == "create":
            return [("iam:CreateRole", arn, {"iam:permissionsboundary": props.get("PermissionsBoundary")})] + (
                [("iam:TagRole", arn, {})] if props.get("Tags") else [])
        if kind == "update":
            current = _existing_boundary(iam, props.get("RoleName") or name)
            needs = [("iam:UpdateAssumeRolePolicy", arn, {}), ("iam:UpdateRole", arn, {})]
            if props.get("PermissionsBoundary"):
                needs.append(("iam:PutRolePermissionsBoundary", arn,
                              {"iam:permissionsboundary": props["PermissionsBoundary"]}))
            elif current:
                needs.append(("iam:DeleteRolePermissionsBoundary", arn, {"iam:permissionsboundary": current}))
            return needs
        return [("iam:DeleteRole", arn, {})]
    if rtype == "AWS::IAM::Policy":
        action = "iam:DeleteRolePolicy" if kind == "delete" else "iam:PutRolePolicy"
        needs = on_roles(action)
        needs += [(action.replace("Role", "User"), f"{iam_arn}:user/{u}", {}) for u in _names(props.get("Users"))]
        needs += [(action.replace("Role", "Group"), f"{iam_arn}:group/{g}", {}) for g in _names(props.get("Groups"))]
        return needs
    if rtype == "AWS::IAM::ManagedPolicy":
        arn = f"{iam_arn}:policy{props.get('Path') or '/'}{props.get('ManagedPolicyName') or name}"
        if kind == "delete":
            return [("iam:DeletePolicy", arn, {})] + on_roles("iam:DetachRolePolicy")
        action = "iam:CreatePolicy" if kind == "create" else "iam:CreatePolicyVersion"
        return [(action, arn, {})] + [(a, r, {**c, "iam:policyarn": arn}) for a, r, c in on_roles("iam:AttachRolePolicy")]
    if rtype == "AWS::DynamoDB::Table":
        action = {"create": "dynamodb:CreateTable", "update": "dynamodb:UpdateTable", "delete": "dynamodb:DeleteTable"}[kind]
        return [(action, f"arn:aws:dynamodb:{region}:{account}:table/{props.get('TableName') or name}", {})]
    if rtype == "AWS::SQS::Queue":
        action = {"create": "sqs:CreateQueue", "update": "sqs:SetQueueAttributes", "delete": "sqs:DeleteQueue"}[kind]
        return [(action, f"arn:aws:sqs:{region}:{account}:{props.get('QueueName') or name}", {})]
    if rtype == "AWS::CloudWatch::Alarm":  # moto's CloudFormation then skips it: it has no alarms
        action = "cloudwatch:DeleteAlarms" if kind == "delete" else "cloudwatch:PutMetricAlarm"
        return [(action, f"arn:aws:cloudwatch:{region}:{account}:alarm:{props.get('AlarmName') or name}", {})]
    if rtype == "AWS::CloudWatch::Dashboard":
        action = "cloudwatch:DeleteDashboards" if kind == "delete" else "cloudwatch:PutDashboard"
        return [(action, f"arn:aws:cloudwatch::{account}:dashboard/{props.get('DashboardName') or name}", {})]
    raise ServiceRoleDenied(f"local/moto_iam.py has no service-role check for {rtype}; add one to _service_role_needs")


def _check_service_role(kind: str, rtype: str, props: dict[str, Any], name: str, account: str, region: str) -> None:
    from moto.iam.models import iam_backends

    role_arn = _stack_role.get()
    if not role_arn:
        return
    iam = iam_backends[account]["aws"]
    role_name = role_arn.split("/")[-1]
    policies, boundary = _role_policies(iam, role_name), _boundary_policy(iam, role_name)
    for action, arn, context in _service_role_needs(kind, rtype, props, name, account=account, region=region, iam=iam):
        context = {"aws:principalarn": [role_arn], "aws:principalaccount": [account],
                   **{k: [v] for k, v in context.items() if v}}
        if not _allowed(policies, boundary, action, arn, context):
            raise ServiceRoleDenied(f"{role_arn} is not authorized to perform: {action} on resource: {arn}")


def _quiet_about_alarms(record: logging.LogRecord) -> bool:
    """moto's CloudFormation has no CloudWatch alarms and says so for each one
    of every stack (tests/test_templates.py checks the alarms instead)."""
    return "AWS::CloudWatch::Alarm" not in record.getMessage()


def _patch_cloudformation() -> None:
    import warnings

    from moto.cloudformation import models, parsing

    logging.getLogger("moto").addFilter(_quiet_about_alarms)
    warnings.filterwarnings("ignore", message=".*AWS::CloudWatch::Alarm.*")

    original_create, original_update = parsing.parse_and_create_resource, parsing.parse_and_update_resource
    original_delete_resource = parsing.ResourceMap._delete_resource

    def checked(kind: str, logical_id: str, resource_json: dict[str, Any], resources_map: Any,
                account_id: str, region_name: str) -> None:
        condition = resource_json.get("Condition")
        if not _stack_role.get() or (condition and not resources_map.lazy_condition_map[condition]):
            return
        props = parsing.clean_json(resource_json.get("Properties", {}), resources_map)
        name = f"{resources_map['AWS::StackName']}-{logical_id}-GENERATED"
        _check_service_role(kind, resource_json["Type"], props, name, account_id, region_name)

    def create_resource(logical_id, resource_json, resources_map, account_id, region_name):  # noqa: ANN001
        checked("create", logical_id, resource_json, resources_map, account_id, region_name)
        return original_create(logical_id, resource_json, resources_map, account_id, region_name)

    def update_resource(logical_id, resource_json, resources_map, account_id, region_name):  # noqa: ANN001
        checked("update", logical_id, resource_json, resources_map, account_id, region_name)
        return original_update(logical_id, resource_json, resources_map, account_id, region_name)

    def delete_resource(self, parsed_resource, resource_json):  # noqa: ANN001
        if _stack_role.get():
            props = {"RoleName": getattr(parsed_resource, "name", None), "Path": getattr(parsed_resource, "path", None),
                     "TableName": getattr(parsed_resource, "name", None),
                     "QueueName": getattr(parsed_resource, "name", None),
                     "DashboardName": getattr(parsed_resource, "name", None),
                     "Roles": getattr(parsed_resource, "role_names", None),
                     "Users": getattr(parsed_resource, "user_names", None),
                     "Groups": getattr(parsed_resource, "group_names", None)}
            rtype = getattr(parsed_resource, "cf_resource_type", None) or resource_json["Type"]
            if rtype == "AWS::IAM::ManagedPolicy":
                props = {"ManagedPolicyName": parsed_resource.name, "Path": parsed_resource.path,
                         "Roles": [r.name for r in getattr(parsed_resource, "roles", [])]}
            _check_service_role("delete", rtype, props, str(getattr(parsed_resource, "physical_resource_id", "")),
                                self._account_id, self._region_name)
        return original_delete_resource(self, parsed_resource, resource_json)

    parsing.parse_and_create_resource = create_resource
    parsing.parse_and_update_resource = update_resource
    parsing.ResourceMap._delete_resource = delete_resource

    stack_create, stack_update = models.Stack.create_resources, models.Stack.update
    backend_delete = models.CloudFormationBackend.delete_stack

    def create_resources(self):  # noqa: ANN001
        token = _stack_role.set(self.role_arn)
        try:
            return stack_create(self)
        except ServiceRoleDenied as denied:
            _stack_role.reset(token)
            token = _stack_role.set(None)
            self._add_stack_event("CREATE_FAILED", resource_status_reason=str(denied))
            try:
                self.resource_map.delete()
                self.status = "ROLLBACK_COMPLETE"
            except Exception:  # noqa: BLE001 - what moto could not remove stays, as in AWS
                self.status = "ROLLBACK_FAILED"
            # moto creates resources lazily, on first look (DescribeStacks
            # outputs, ListStackResources): a rolled-back stack has none.
            self.resource_map._resource_json_map = {}
            self.output_map = parsing.OutputMap(self.resource_map, {"Outputs": {}}, self.stack_id)
            self._add_stack_event(self.status)
            log.warning("stack %s: %s", self.name, denied)
        finally:
            _stack_role.reset(token)

    def update(self, template, role_arn=None, parameters=None, tags=None):  # noqa: ANN001
        token = _stack_role.set(role_arn or self.role_arn)
        try:
            return stack_update(self, template, role_arn or self.role_arn, parameters=parameters, tags=tags)
        except ServiceRoleDenied as denied:
            self._add_stack_event("UPDATE_FAILED", resource_status_reason=str(denied))
            self.status = "UPDATE_ROLLBACK_FAILED"
            self._add_stack_event(self.status)
            log.warning("stack %s: %s", self.name, denied)
        finally:
            _stack_role.reset(token)

    def delete_stack(self, name_or_stack_id):  # noqa: ANN001
        stack = next((s for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)), None)
        token = _stack_role.set(stack.role_arn if stack else None)
        try:
            return backend_delete(self, name_or_stack_id)
        except ServiceRoleDenied as denied:
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=str(denied))
            stack.status = "DELETE_FAILED"
            self.stacks[stack.stack_id] = stack
            log.warning("stack %s: %s", stack.name, denied)
        finally:
            _stack_role.reset(token)

    models.Stack.create_resources = create_resources
    models.Stack.update = update
    models.CloudFormationBackend.delete_stack = delete_stack


# --- signatures ------------------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    """SigV4's derived key (four HMACs), the same for every request a key
    signs in one day, region and service."""
    import hashlib
    import hmac

    key = f"AWS4{secret}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _install_signing_key_cache() -> None:
    """moto recomputes each request's signature as botocore computes it; the
    same computation, with the derived key remembered. The signature itself
    is still calculated over every request and compared."""
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from moto.iam.access_control import IAMRequest, S3IAMRequest

    class CachedKey:
        def signature(self, string_to_sign: str, request: Any) -> str:
            key = _signing_key(self.credentials.secret_key, request.context["timestamp"][0:8], self._region_name,
                               self._service_name)
            return self._sign(key, string_to_sign, hex=True)

    class CachedKeySigV4(CachedKey, SigV4Auth):
        pass

    class CachedKeyS3SigV4(CachedKey, S3SigV4Auth):
        pass

    IAMRequest._create_auth = lambda self, credentials: CachedKeySigV4(credentials, self._service, self._region)
    S3IAMRequest._create_auth = lambda self, credentials: CachedKeyS3SigV4(credentials, self._service, self._region)


def install() -> None:
    """Patch moto once per process (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase
    from moto.iam.responses import IamResponse

    IAMPolicyStatement.is_action_permitted = _statement_result
    IAMRequestBase.check_action_permitted = _check_action_permitted
    IAMRequestBase._check_role_trust_relationship = _check_role_trust_relationship
    IamResponse._determine_resource = _iam_resource
    _install_signing_key_cache()
    _patch_cloudformation()
    _installed = True
