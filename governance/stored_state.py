"""Deployed state: the policy set of a `pulumi stack export` file.

`pulumi stack export --file FILE` writes the stack's checkpoint: a version 3
deployment whose `resources` list every resource with its `urn`, `type`,
`inputs`, `outputs` and a `provider` reference (`<provider urn>::<provider id>`).
This program gives each account its own `aws` provider whose `allowedAccountIds`
names the account, so the provider reference of a resource names the account it
lives in, and the provider's name is the account's name.

Outputs are read before inputs, because they hold what AWS returned at the last
refresh: a policy as AWS stores it, with one-element lists as plain strings, lists
in another order, and a deleted role's principal replaced by its unique id
(`AROA...`). Such a document is canonicalised by `governance.policy`, so stored
forms compare equal to the generated ones, while a unique id stays as it is and is
reported as a dead principal.

Secret values are envelopes: `{"4dabf18193072939515e22adb298388d":
"1b47061264138c4ac30d75fd1eb44270", "ciphertext": ...}` without `--show-secrets`,
and with `"plaintext": "<the value as JSON text>"` when exported with it. An
encrypted policy cannot be compared, so it is reported as invalid input; external
ids read from plaintext are masked at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from governance import aws_formats, policy
from governance.config import MANAGEMENT_NAME
from governance.policy_set import (
    BUDGET,
    ENDPOINT_POLICY,
    LAYER_POLICY,
    PERMISSION_POLICY,
    ROLE,
    TOPIC_POLICY,
    TRUST_POLICY,
    AccountInfo,
    PolicyEntry,
    PolicySet,
    layer_policy,
    mask,
    mask_external_ids,
)
from governance.problems import ConfigError, Problem, show
from governance.snapshot import (
    budget_document,
    notification_document,
    read_regular_file,
    role_settings,
)

# The signature key and value that mark a secret in a Pulumi checkpoint.
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
# The only deployment layout this reader accepts (`pulumi stack export` since 2019).
# NOTE: written from Pulumi's version 3 checkpoint format and pulumi-aws 7's
# property names; no export of this program from a real deployment was compared.
DEPLOYMENT_VERSION = 3

PROVIDER_TYPE = "pulumi:providers:aws"
ROLE_TYPE = "aws:iam/role:Role"
ROLE_POLICY_TYPE = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT_TYPE = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
LAYER_VERSION_TYPE = "aws:lambda/layerVersion:LayerVersion"
LAYER_PERMISSION_TYPE = "aws:lambda/layerVersionPermission:LayerVersionPermission"
ENDPOINT_TYPE = "aws:ec2/vpcEndpoint:VpcEndpoint"
TOPIC_TYPE = "aws:sns/topic:Topic"
BUDGET_TYPE = "aws:budgets/budget:Budget"

# The policy AWS gives a VPC endpoint created without one: full access.
DEFAULT_ENDPOINT_POLICY = {
    "Version": "2008-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    ],
}

_FIX_ENCRYPTED = (
    "export the stack with `pulumi stack export --show-secrets --file FILE`; "
    "external ids read from it are masked in every report"
)


class _EncryptedError(Exception):
    """A secret envelope without plaintext."""


@dataclass
class _Role:
    account: AccountInfo
    name: str
    settings: dict[str, Any]
    trust: Any
    inline: list[Any] = field(default_factory=list)
    managed: list[str] = field(default_factory=list)


@dataclass
class _Layer:
    account: AccountInfo
    arn: str
    version: int
    permissions: list[tuple[str, str, str | None, str]] = field(default_factory=list)


class _Reader:
    """Walk the resources of one deployment, collecting entries and problems."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.providers: dict[str, AccountInfo] = {}
        self.management_account_id: str | None = None
        self.roles: dict[tuple[str, str], _Role] = {}
        self.layers: dict[tuple[str, str], _Layer] = {}
        self.entries: list[PolicyEntry] = []

    def problem(
        self, where: str, message: str, found: str, allowed: str, fix: str
    ) -> None:
        self.problems.append(Problem(where, message, found, allowed, fix))

    def value(
        self,
        resource: Mapping[str, Any],
        key: str,
        where: str,
        sections: tuple[str, ...] = ("outputs", "inputs"),
    ) -> Any:
        """Return an output (what AWS returned), else the input; unwrap secrets."""
        for section in sections:
            properties = resource.get(section) or {}
            if not isinstance(properties, Mapping):
                self.problem(
                    f"{where}.{section}",
                    f"{section} is not an object",
                    show(properties),
                    "an object of property names and values",
                    "export the stack again; the file was edited or damaged",
                )
                return None
            if properties.get(key) is not None:
                try:
                    return _unwrap(properties[key])
                except _EncryptedError:
                    self.problem(
                        f"{where}.{section}.{key}",
                        "value is encrypted",
                        "a secret envelope with ciphertext",
                        "a secret exported as plaintext",
                        _FIX_ENCRYPTED,
                    )
                    return None
        return None

    def policy_value(self, resource: Mapping[str, Any], key: str, where: str) -> Any:
        text = self.value(resource, key, where)
        if text is None:
            return None
        try:
            document = (
                policy.parse(text) if isinstance(text, str) else policy.canonical(text)
            )
        except (ValueError, TypeError) as error:
            self.problem(
                f"{where}.{key}",
                f"invalid policy: {error}",
                _shown_policy(text),
                "an IAM policy document as JSON text",
                "export the stack again; the state may be damaged",
            )
            return None
        return mask_external_ids(mask(document))


def read_export(path: Path) -> PolicySet:
    """Read a `pulumi stack export` file into a policy set.

    Raises ConfigError when the file is not a version 3 export or contains a policy
    that is encrypted or invalid.
    """
    try:
        document = json.loads(read_regular_file(str(path), limit=None))
    except FileNotFoundError:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    "file not found",
                    "nothing",
                    "the JSON written by `pulumi stack export`",
                    "check the path",
                )
            ]
        ) from None
    except json.JSONDecodeError as error:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    f"invalid JSON: {error}",
                    "text that is not JSON",
                    "the JSON written by `pulumi stack export`",
                    "export the stack again with `pulumi stack export --file FILE`",
                )
            ]
        ) from None
    except (OSError, ValueError, RecursionError) as error:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    f"cannot read the export: {error}",
                    "a file that is not a readable JSON export",
                    "the JSON written by `pulumi stack export`",
                    "export the stack again with `pulumi stack export --file FILE`",
                )
            ]
        ) from None
    return from_export(document, f"stack export {path}")


# Errors that reading a value of a shape `pulumi stack export` never writes raises.
_UNEXPECTED = (
    ArithmeticError,
    AttributeError,
    LookupError,
    RecursionError,
    TypeError,
    ValueError,
)


def from_export(document: Any, source: str) -> PolicySet:
    """Build a policy set from the decoded JSON of `pulumi stack export`.

    Raises ConfigError for every resource that cannot be read, and for one that
    this program creates under a provider that is not an account's.
    """
    try:
        return _from_export(document, source)
    except _UNEXPECTED:
        raise ConfigError(
            [
                Problem(
                    source,
                    "the export has a value of an unexpected shape",
                    "a value `pulumi stack export` does not write",
                    "the JSON written by `pulumi stack export`",
                    "export the stack again; the file was edited or damaged",
                )
            ]
        ) from None


def _from_export(document: Any, source: str) -> PolicySet:
    resources = _resources(document, source)
    reader = _Reader(source)
    live = _live_resources(reader, resources)
    for index, resource in live:
        if resource.get("type") == PROVIDER_TYPE:
            _read_provider(reader, resource, f"deployment.resources[{index}]")
    for index, resource in live:
        account = reader.providers.get(str(resource.get("provider", "")))
        handler = _HANDLERS.get(str(resource.get("type")))
        if handler is None:
            continue
        where = f"deployment.resources[{index}]"
        if account is None:
            # Skipping it would hide its policy from the diff and the findings.
            reader.problem(
                f"{where}.provider",
                f"{resource.get('type')} is not under an account's provider",
                show(resource.get("provider")),
                "a provider of this program, confined to one account by "
                "allowedAccountIds",
                "export the stack again; a resource of this program under another "
                "provider was edited in or added outside the program",
            )
            continue
        try:
            handler(reader, resource, account, where)
        except _UNEXPECTED:
            # A property of a shape `pulumi stack export` never writes.
            reader.problem(
                where,
                f"{resource.get('type')} has a property of an unexpected shape",
                show(_urn_name(resource)),
                "the resource as `pulumi stack export` writes it",
                "export the stack again; the file was edited or damaged",
            )
    _finish_roles(reader)
    _finish_layers(reader)
    if reader.problems:
        raise ConfigError(reader.problems)
    organization_ids = sorted(
        {
            value
            for entry in reader.entries
            if entry.kind in (TRUST_POLICY, ENDPOINT_POLICY, LAYER_POLICY)
            for value in _condition_values(entry.document, "aws:principalorgid")
        }
    )
    stack = _stack_name(resources)
    policy_set = PolicySet(
        source=source,
        project=stack[0] if stack else None,
        stack=stack[1] if stack else None,
        organization_id=organization_ids[0] if len(organization_ids) == 1 else None,
        management_account_id=reader.management_account_id,
        accounts=tuple(sorted(set(reader.providers.values()))),
        entries=tuple(sorted(reader.entries, key=lambda entry: entry.path)),
    )
    return policy_set


def _resources(document: Any, source: str) -> list[Any]:
    def invalid(where: str, message: str, found: Any) -> ConfigError:
        return ConfigError(
            [
                Problem(
                    where,
                    message,
                    show(found),
                    f"a version {DEPLOYMENT_VERSION} deployment, as "
                    "`pulumi stack export` writes it",
                    "export the stack with `pulumi stack export --file FILE`",
                )
            ]
        )

    if not isinstance(document, Mapping):
        raise invalid(source, "not a JSON object", document)
    if document.get("version") != DEPLOYMENT_VERSION:
        raise invalid("version", "unknown deployment version", document.get("version"))
    deployment = document.get("deployment")
    if not isinstance(deployment, Mapping):
        raise invalid("deployment", "missing deployment", deployment)
    resources = deployment.get("resources") or []
    if not isinstance(resources, list):
        raise invalid("deployment.resources", "not a list", resources)
    return resources


def _stack_name(resources: list[Any]) -> tuple[str, str] | None:
    # urn:pulumi:<stack>::<project>::<type>::<name>
    for resource in resources:
        if isinstance(resource, Mapping) and "urn" in resource:
            parts = str(resource["urn"]).split("::")
            if len(parts) >= 2 and parts[0].startswith("urn:pulumi:"):
                return parts[1], parts[0].removeprefix("urn:pulumi:")
    return None


def _unwrap(value: Any) -> Any:
    """Replace each secret envelope with its plaintext value, decoded."""
    if isinstance(value, Mapping):
        if value.get(SECRET_SIGNATURE_KEY) == SECRET_SIGNATURE:
            if "plaintext" not in value:
                raise _EncryptedError
            return _unwrap(json.loads(value["plaintext"]))
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    return value


def _decoded(value: Any) -> Any:
    # Provider configuration may be stored as JSON text (`"[\"0123...\"]"`).
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _shown_policy(text: Any) -> str:
    """Show a policy that failed to parse, with its external ids masked."""
    try:
        document = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return "text that is not JSON (not shown: it may contain an external id)"
    return show(mask_external_ids(document))


def _live_resources(
    reader: _Reader, resources: list[Any]
) -> list[tuple[int, Mapping[str, Any]]]:
    """Return the resources that exist now, by position; report a repeated URN.

    A resource marked `delete` is an old one that Pulumi deletes at its next
    update, so the live resource with the same URN is the one read.
    """
    live = []
    seen: dict[str, int] = {}
    for index, resource in enumerate(resources):
        if not isinstance(resource, Mapping) or resource.get("delete") is True:
            continue
        urn = str(resource.get("urn", ""))
        if urn in seen:
            reader.problem(
                f"deployment.resources[{index}].urn",
                f"resource appears twice, first at deployment.resources[{seen[urn]}]",
                show(urn),
                "each live resource once, as `pulumi stack export` writes them",
                "export the stack again; the file was edited or damaged",
            )
            continue
        seen[urn] = index
        live.append((index, resource))
    return live


def _urn_name(resource: Mapping[str, Any]) -> str:
    return str(resource.get("urn", "")).rsplit("::", 1)[-1]


def _read_provider(reader: _Reader, resource: Mapping[str, Any], where: str) -> None:
    # Only the keys read here are unwrapped, so that a secret elsewhere in the
    # inputs, for example in assumeRoles, does not hide the account.
    allowed = _decoded(reader.value(resource, "allowedAccountIds", where, ("inputs",)))
    region = reader.value(resource, "region", where, ("inputs",))
    if isinstance(allowed, str):
        allowed = [allowed]
    if not isinstance(allowed, list) or len(allowed) != 1:
        # A provider not confined to one account is not one of this program's.
        return
    account_id = str(allowed[0])
    name = _urn_name(resource)
    region = str(region or "")
    reference = f"{resource.get('urn')}::{resource.get('id')}"
    if name == MANAGEMENT_NAME:
        reader.management_account_id = account_id
        return
    reader.providers[reference] = AccountInfo(name, account_id, region)


def _read_role(
    reader: _Reader, resource: Mapping[str, Any], account: AccountInfo, where: str
) -> None:
    name = reader.value(resource, "name", where) or _urn_name(resource)
    trust = reader.policy_value(resource, "assumeRolePolicy", where)
    duration = reader.value(resource, "maxSessionDuration", where) or 3600
    role = reader.roles.setdefault(
        (account.id, name), _Role(account, name, {}, None, [], [])
    )
    role.trust = trust
    role.settings = {
        "path": reader.value(resource, "path", where) or "/",
        # 3600.0 counts as a whole number. 3600.5 is kept, so the shape check
        # reports it.
        "maxSessionDuration": int(duration)
        if isinstance(duration, float) and duration.is_integer()
        else duration,
        "permissionsBoundary": reader.value(resource, "permissionsBoundary", where)
        or None,
    }


def _role_for(reader: _Reader, account: AccountInfo, role_name: Any) -> _Role:
    # The `role` input is the role's name; an ARN would end in role/<path>/<name>.
    name = str(role_name).rsplit("/", 1)[-1]
    return reader.roles.setdefault(
        (account.id, name), _Role(account, name, {}, None, [], [])
    )


def _read_role_policy(
    reader: _Reader, resource: Mapping[str, Any], account: AccountInfo, where: str
) -> None:
    document = reader.policy_value(resource, "policy", where)
    if document is not None:
        role = _role_for(reader, account, reader.value(resource, "role", where))
        role.inline.append(document)


def _read_attachment(
    reader: _Reader, resource: Mapping[str, Any], account: AccountInfo, where: str
) -> None:
    arn = reader.value(resource, "policyArn", where)
    if arn:
        role = _role_for(reader, account, reader.value(resource, "role", where))
        role.managed.append(str(arn))


def _finish_roles(reader: _Reader) -> None:
    for role in reader.roles.values():
        if not role.settings:
            # Attachments or inline policies of a role the export does not hold.
            continue
        entries = [
            (
                ROLE,
                role_settings(
                    role.name,
                    role.settings["path"],
                    role.settings["maxSessionDuration"],
                    role.settings["permissionsBoundary"],
                    role.managed,
                ),
            )
        ]
        if role.trust is not None:
            entries.append((TRUST_POLICY, role.trust))
        if role.inline:
            statements = [
                statement
                for document in role.inline
                for statement in document["Statement"]
            ]
            entries.append((PERMISSION_POLICY, mask(policy.policy(*statements))))
        for kind, document in entries:
            reader.entries.append(
                PolicyEntry(
                    role.account.name, role.account.id, kind, role.name, document
                )
            )


def _layer_arn(value: Any, account: AccountInfo) -> str:
    text = str(value)
    if text.startswith("arn:"):
        # A version ARN ends in ":<number>"; the layer ARN has seven parts.
        return ":".join(text.split(":")[:7])
    return aws_formats.layer_arn(account.partition, account.region, account.id, text)


def _read_layer_version(
    reader: _Reader, resource: Mapping[str, Any], account: AccountInfo, where: str
) -> None:
    arn = _layer_arn(
        reader.value(resource, "layerArn", where)
        or reader.value(resource, "layerName", where),
        account,
    )
    version = int(reader.value(resource, "version", where) or 0)
    layer = reader.layers.get((account.id, arn))
    if layer is None or version > layer.version:
        reader.layers[(account.id, arn)] = _Layer(account, arn, version, [])


def _read_layer_permission(
    reader: _Reader, resource: Mapping[str, Any], account: AccountInfo, where: str
) -> None:
    arn = _layer_arn(reader.value(resource, "layerName", where), account)
    version = int(reader.value(resource, "versionNumber", where) or 0)
    layer = reader.layers.get((account.id, arn))
    if layer is None or version > layer.version:
        layer = _Layer(account, arn, version, [])
        reader.layers[(account.id, arn)] = layer
    elif version < layer.version:
        # A permission of an older version, kept by skip_destroy: the newest
        # version's permissions are the sharing consumers get from now on.
        return
    layer.permissions.append(
        (
            str(reader.value(resource, "statementId", where)),
            str(reader.value(resource, "principal", where)),
            reader.value(resource, "organizationId", where) or None,
            str(
                reader.value(resource, "action", where)
                or aws_formats.LAYER_PERMISSION_ACTION
            ),
        )
    )


def _finish_layers(reader: _Reader) -> None:
    for layer in reader.layers.values():
        name = layer.arn.rsplit(":", 1)[-1]
        document = layer_policy(
            layer.arn, layer.account.partition, sorted(set(layer.permissions))
        )
        reader.entries.append(
            PolicyEntry(
                layer.account.name,
                layer.account.id,
                LAYER_POLICY,
                name,
                mask(document),
                {"layerArn": layer.arn},
            )
        )


def _read_endpoint(
    reader: _Reader, resource: Mapping[str, Any], account: AccountInfo, where: str
) -> None:
    service_name = str(reader.value(resource, "serviceName", where) or "")
    # Logical names are `<account>-vpc-endpoints-<endpoint name>`.
    logical = _urn_name(resource)
    prefix = f"{account.name}-vpc-endpoints-"
    name = (
        logical.removeprefix(prefix)
        if logical.startswith(prefix)
        else service_name.rsplit(".", 1)[-1] or logical
    )
    stored = any(
        (resource.get(section) or {}).get("policy") is not None
        for section in ("outputs", "inputs")
    )
    if stored:
        document = reader.policy_value(resource, "policy", where)
        if document is None:
            return
    else:
        document = mask(policy.canonical(DEFAULT_ENDPOINT_POLICY))
    service = service_name.split(".", 3)[-1] if service_name.count(".") >= 3 else ""
    reader.entries.append(
        PolicyEntry(
            account.name,
            account.id,
            ENDPOINT_POLICY,
            name,
            document,
            {
                "service": service,
                "serviceName": service_name,
                "type": reader.value(resource, "vpcEndpointType", where) or "Gateway",
            },
        )
    )


def _read_topic(
    reader: _Reader, resource: Mapping[str, Any], account: AccountInfo, where: str
) -> None:
    document = reader.policy_value(resource, "policy", where)
    if document is None:
        return
    name = reader.value(resource, "name", where) or _urn_name(resource)
    attributes = {}
    arn = reader.value(resource, "arn", where)
    if arn:
        attributes["topicArn"] = arn
    reader.entries.append(
        PolicyEntry(account.name, account.id, TOPIC_POLICY, name, document, attributes)
    )


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _read_budget(
    reader: _Reader, resource: Mapping[str, Any], account: AccountInfo, where: str
) -> None:
    name = reader.value(resource, "name", where) or _urn_name(resource)
    service = None
    for cost_filter in reader.value(resource, "costFilters", where) or []:
        values = cost_filter.get("values") or []
        if cost_filter.get("name") == "Service" and len(values) == 1:
            service = values[0]
    notifications = [
        notification_document(
            str(item.get("notificationType")),
            str(item.get("comparisonOperator")),
            _amount(item.get("threshold")),
            str(item.get("thresholdType") or "PERCENTAGE"),
            list(item.get("subscriberEmailAddresses") or []),
            bool(item.get("subscriberSnsTopicArns")),
        )
        for item in reader.value(resource, "notifications", where) or []
    ]
    document = budget_document(
        name,
        _amount(reader.value(resource, "limitAmount", where)),
        service,
        notifications,
    )
    reader.entries.append(PolicyEntry(account.name, account.id, BUDGET, name, document))


def _condition_values(document: Mapping[str, Any], key: str) -> list[str]:
    values: list[str] = []
    for statement in document.get("Statement", []):
        for keys in (statement.get("Condition") or {}).values():
            for name, value in keys.items():
                if name.lower() == key:
                    values.extend(value if isinstance(value, list) else [value])
    return values


_HANDLERS = {
    ROLE_TYPE: _read_role,
    ROLE_POLICY_TYPE: _read_role_policy,
    ATTACHMENT_TYPE: _read_attachment,
    LAYER_VERSION_TYPE: _read_layer_version,
    LAYER_PERMISSION_TYPE: _read_layer_permission,
    ENDPOINT_TYPE: _read_endpoint,
    TOPIC_TYPE: _read_topic,
    BUDGET_TYPE: _read_budget,
}
