"""Cross-account execution roles: configuration models and their validation.

`executionRoles` lists role definitions. Each names the accounts that get the role
(`targets`), who may assume it (`trustedPrincipals`), under which conditions, and
what it may do (managed policies and inline statements). `resolve_roles` checks the
references against the organization and returns `ExecutionRole`s that the trust
policy builder in `governance.trust` turns into documents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from governance import aws_formats, iam_catalog
from governance.fields import (
    AccountId,
    Model,
    RoleName,
    Text,
    UnitName,
    invalid,
    suggest,
)
from governance.parsing import parse_list
from governance.policy import Secret
from governance.problems import Problem, show

# A trusted role inside an account: a role name ("deployer"), a name under a path
# ("ci/deployer" for the role at path /ci/), or every role under a path ("ci/*").
TRUSTED_ROLE = re.compile(r"^([A-Za-z0-9+=,.@_-]+/)*([A-Za-z0-9+=,.@_-]{1,64}|\*)\Z")

# Placeholders an inline statement may use; each is resolved per target account.
PLACEHOLDERS = ("account", "region", "partition")
PLACEHOLDER = re.compile(r"(?<!\$)\{([^{}]*)\}")

# Services whose ARNs have no region ("iam") or neither region nor account ("s3").
GLOBAL_SERVICES = {
    "iam": ("", "{account}"),
    "organizations": ("", "{account}"),
    "cloudfront": ("", "{account}"),
    "route53": ("", ""),
    "s3": ("", ""),
}

# A managed policy ARN: AWS managed ("arn:aws:iam::aws:policy/...") or a customer
# managed policy of the target account, written with the {account} placeholder.
MANAGED_POLICY_ARN = re.compile(
    r"^arn:(\{partition\}|aws|aws-cn|aws-us-gov):iam::(aws|\{account\}|[0-9]{12}):"
    r"policy/([\x21-\x7E]+/)*[A-Za-z0-9+=,.@_-]{1,128}\Z"
)

# Sid: letters and digits only, as IAM requires in a policy's statement id.
SID = re.compile(r"^[A-Za-z0-9]{1,128}\Z")


def _check_external_id(value: Any) -> str:
    allowed = "2-1224 characters from letters, digits, '_' and '+=,.@:/-'"
    if isinstance(value, dict) and set(value) != {"secure"}:
        raise invalid(
            "external id is a mapping",
            allowed,
            "write it as an encrypted value: externalId: {secure: ...}, set with "
            "`pulumi config set --secret --path ...externalId VALUE`",
        )
    if not isinstance(value, str):
        raise invalid(
            "external id is not a string",
            allowed,
            "set it with `pulumi config set --secret --path ...externalId VALUE`, "
            "which stores it encrypted",
        )
    if not aws_formats.EXTERNAL_ID.match(value):
        raise invalid(
            f"invalid external id ({len(value)} characters)",
            allowed,
            "generate one with `openssl rand -hex 16` and set it with "
            "`pulumi config set --secret --path ...externalId`",
        )
    return value


def _check_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid("not a boolean", "true or false", "write true or false unquoted")
    return value


def _check_session_duration(value: Any) -> int:
    allowed = "a whole number of seconds from 3600 (1 hour) to 43200 (12 hours)"
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(
            "maxSessionDuration is not a whole number", allowed, "write seconds"
        )
    low, high = aws_formats.SESSION_DURATION_RANGE
    if not low <= value <= high:
        raise invalid(
            f"maxSessionDuration {value} is out of range",
            allowed,
            "use 3600 for one hour; IAM rejects shorter or longer sessions",
        )
    return value


def _check_trusted_role(value: Any) -> str:
    allowed = (
        'a role name ("deployer"), a path and name ("ci/deployer") or every role '
        'under a path ("ci/*")'
    )
    if value == "*":
        raise invalid(
            '"*" trusts every role of the account, its administrator roles included',
            allowed,
            "name the roles, or a path such as ci/*; to trust a partner account "
            "whole, leave out roles",
        )
    if not isinstance(value, str) or not TRUSTED_ROLE.match(value):
        raise invalid("invalid trusted role", allowed, "correct the role name or path")
    path = value.rsplit("/", 1)[0] if "/" in value else ""
    if len(path) + 2 > aws_formats.ROLE_PATH_MAX_LENGTH:
        raise invalid(
            f"trusted role path has {len(path) + 2} characters, over IAM's limit "
            "of 512",
            allowed,
            "shorten the path",
        )
    return value


def _check_action(value: Any) -> str:
    allowed = (
        'an IAM action "service:Action", wildcards allowed, for example s3:GetObject'
    )
    if not isinstance(value, str):
        raise invalid("action is not a string", allowed, "quote the action")
    reason = iam_catalog.unknown_action(value)
    if reason is not None:
        raise invalid(
            f"unknown action: {reason}", allowed, "check the action's spelling"
        )
    return value


def _check_managed_policy(value: Any) -> str:
    allowed = (
        "arn:aws:iam::aws:policy/NAME for an AWS managed policy, or "
        "arn:{partition}:iam::{account}:policy/NAME for one in the target account"
    )
    match = MANAGED_POLICY_ARN.match(value) if isinstance(value, str) else None
    if match is None:
        raise invalid("invalid managed policy ARN", allowed, "copy the policy's ARN")
    if aws_formats.ACCOUNT_ID.match(match.group(2)):
        raise invalid(
            "managed policy ARN names an account",
            allowed,
            "write {account}: IAM attaches only a policy of the role's own account, "
            "and the role is created in every target account",
        )
    return value


def _check_sid(value: Any) -> str:
    if not isinstance(value, str) or not SID.match(value):
        raise invalid(
            "invalid statement id",
            "1-128 letters and digits",
            "remove spaces and punctuation",
        )
    return value


def _check_role_path(value: Any) -> str:
    allowed = 'a path that starts and ends with "/", at most 512 characters'
    if not isinstance(value, str) or not aws_formats.ROLE_PATH.match(value):
        raise invalid("invalid role path", allowed, 'use "/" or for example "/org/"')
    return value


def _check_description(value: Any) -> str:
    allowed = "at most 1000 printable characters"
    if not isinstance(value, str) or not aws_formats.ROLE_DESCRIPTION.match(value):
        raise invalid("invalid role description", allowed, "shorten it")
    return value


ExternalId = Annotated[str, BeforeValidator(_check_external_id)]
StrictBool = Annotated[bool, BeforeValidator(_check_bool)]
SessionDuration = Annotated[int, BeforeValidator(_check_session_duration)]
TrustedRole = Annotated[str, BeforeValidator(_check_trusted_role)]
Action = Annotated[str, BeforeValidator(_check_action)]
ManagedPolicyArn = Annotated[str, BeforeValidator(_check_managed_policy)]
Sid = Annotated[str, BeforeValidator(_check_sid)]
RolePath = Annotated[str, BeforeValidator(_check_role_path)]
Description = Annotated[str, BeforeValidator(_check_description)]


def _check_condition_value(value: Any) -> Any:
    allowed = "a string, a number, true or false, or a non-empty list of strings"
    if isinstance(value, list):
        if not value:
            raise invalid("condition has no value", allowed, "add a value")
        if not all(isinstance(item, str) for item in value):
            raise invalid(
                "condition list contains a value that is not a string",
                allowed,
                "quote each value",
            )
        return value
    if isinstance(value, str | bool | int):
        return value
    raise invalid("invalid condition value", allowed, "write a string or a list")


ConditionValue = Annotated[Any, BeforeValidator(_check_condition_value)]


class TrustedPrincipalConfig(Model):
    """A trusted principal: roles in an account or a unit, or a partner account."""

    account: Text | None = None
    organizational_unit: UnitName | None = None
    partner_account_id: AccountId | None = None
    roles: list[TrustedRole] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_kind(self) -> TrustedPrincipalConfig:
        kinds = [
            key
            for key, value in (
                ("account", self.account),
                ("organizationalUnit", self.organizational_unit),
                ("partnerAccountId", self.partner_account_id),
            )
            if value is not None
        ]
        if len(kinds) != 1:
            raise invalid(
                f"a trusted principal names {len(kinds)} kinds ({', '.join(kinds)})",
                "exactly one of account, organizationalUnit, partnerAccountId",
                "split it into one entry per kind",
            )
        if self.partner_account_id is None and not self.roles:
            raise invalid(
                "a principal inside the organization names no roles",
                "a list of the roles allowed to assume this one",
                "add roles: [ROLE_NAME]; trusting a whole member account is not "
                "supported, so every trusted role is named",
            )
        return self


class StatementConfig(Model):
    """An inline permission statement, with placeholders resolved per account.

    `{account}`, `{region}` and `{partition}` become the target account's values.
    """

    sid: Sid | None = None
    effect: Literal["Allow", "Deny"] = "Allow"
    actions: list[Action] = Field(min_length=1)
    resources: list[Text] = Field(min_length=1)
    conditions: dict[str, dict[str, ConditionValue]] = Field(default_factory=dict)


class TargetsConfig(Model):
    """The accounts that get a role: by name, by unit (with units below it), or all."""

    accounts: list[Text] = Field(default_factory=list)
    organizational_units: list[UnitName] = Field(default_factory=list)
    all: StrictBool = False

    @model_validator(mode="after")
    def _some_target(self) -> TargetsConfig:
        if self.all and (self.accounts or self.organizational_units):
            raise invalid(
                "targets sets all and also names accounts or units",
                "all: true alone, or accounts and organizationalUnits",
                "remove all: true or the lists",
            )
        if not (self.all or self.accounts or self.organizational_units):
            raise invalid(
                "targets names no account",
                "all: true, or accounts and organizationalUnits",
                "name the accounts that get the role",
            )
        return self


class ExecutionRoleConfig(Model):
    """One execution role definition, created in every target account."""

    name: RoleName
    description: Description = ""
    path: RolePath = "/"
    targets: TargetsConfig
    trusted_principals: list[TrustedPrincipalConfig] = Field(min_length=1)
    external_id: ExternalId | None = None
    require_mfa: StrictBool = False
    allow_session_tags: StrictBool = False
    allow_source_identity: StrictBool = False
    max_session_duration: SessionDuration = 3600
    permissions_boundary: ManagedPolicyArn | None = None
    managed_policy_arns: list[ManagedPolicyArn] = Field(default_factory=list)
    statements: list[StatementConfig] = Field(default_factory=list)


@dataclass(frozen=True)
class TrustEntry:
    """One trusted principal, resolved: its accounts, its unit path, its roles.

    `kind` is "account", "unit" or "partner". `roles` contains trusted role patterns
    ("name", "path/name", "path/*"); it is empty only for a partner account that is
    trusted whole.
    """

    kind: Literal["account", "unit", "partner"]
    account_ids: tuple[str, ...]
    unit: str | None
    unit_path: str | None
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ExecutionRole:
    """A validated execution role definition with every reference resolved."""

    index: int
    name: str
    description: str
    path: str
    target_accounts: tuple[str, ...]
    trust: tuple[TrustEntry, ...]
    external_id: Secret | None
    require_mfa: bool
    allow_session_tags: bool
    allow_source_identity: bool
    max_session_duration: int
    permissions_boundary: str | None
    managed_policy_arns: tuple[str, ...]
    statements: tuple[Mapping[str, Any], ...]


def _targets(
    role: ExecutionRoleConfig, path: str, organization: Any, problems: list[Problem]
) -> tuple[str, ...]:
    names: set[str] = set()
    before = len(problems)
    known_accounts = sorted(organization.account_by_name)
    if role.targets.all:
        names.update(known_accounts)
    for index, name in enumerate(role.targets.accounts):
        if name in organization.account_by_name:
            names.add(name)
        elif name not in organization.unresolved:
            problems.append(
                Problem(
                    f"{path}.targets.accounts[{index}]",
                    "unknown account",
                    show(name),
                    "the name of an entry in accounts",
                    suggest(name, known_accounts, "use the name of an account entry"),
                )
            )
    known_units = sorted(organization.units)
    for index, unit in enumerate(role.targets.organizational_units):
        if unit in organization.units:
            names.update(
                account.name for account in organization.accounts_in_unit(unit)
            )
        else:
            problems.append(
                _unknown_unit(
                    f"{path}.targets.organizationalUnits[{index}]", unit, known_units
                )
            )
    if not names and len(problems) == before and not organization.unresolved:
        problems.append(
            Problem(
                f"{path}.targets",
                "targets match no account",
                show(role.targets.model_dump(by_alias=True, exclude_defaults=True)),
                "accounts by name, or units with at least one entry in accounts",
                "add the accounts of the unit, or name other targets",
            )
        )
    return tuple(sorted(names))


def _unknown_unit(path: str, unit: str, known: list[str]) -> Problem:
    return Problem(
        path,
        "unknown organizational unit",
        show(unit),
        "the name of a unit in organization.organizationalUnits: " + ", ".join(known),
        suggest(unit, known, "use one of the units listed"),
    )


def _trust_entry(
    entry: TrustedPrincipalConfig,
    path: str,
    organization: Any,
    has_external_id: bool,
    problems: list[Problem],
) -> TrustEntry | None:
    roles = tuple(sorted(set(entry.roles)))
    if entry.partner_account_id is not None:
        member = next(
            (a for a in organization.accounts if a.id == entry.partner_account_id), None
        )
        if (
            member is not None
            or entry.partner_account_id == organization.management_account_id
        ):
            problems.append(
                Problem(
                    f"{path}.partnerAccountId",
                    "partner account is in the organization",
                    show(entry.partner_account_id),
                    "the id of an account outside the organization",
                    f"write account: {member.name if member else 'the id'} with the "
                    "roles it may use",
                )
            )
            return None
        if not has_external_id:
            problems.append(
                Problem(
                    f"{path}.partnerAccountId",
                    "a principal outside the organization requires an external id",
                    show(entry.partner_account_id),
                    "a role definition with externalId set as a secret",
                    "agree an external id with the partner and set it with "
                    "`pulumi config set --secret --path "
                    f"'{path.split('.')[0]}.externalId' VALUE`",
                )
            )
            return None
        return TrustEntry("partner", (entry.partner_account_id,), None, None, roles)
    if entry.account is not None:
        account = organization.account_by_name.get(entry.account)
        if account is None:
            account = next(
                (a for a in organization.accounts if a.id == entry.account), None
            )
        if account is None and entry.account in organization.unresolved:
            return None
        if account is None:
            is_id = aws_formats.ACCOUNT_ID.match(entry.account) is not None
            problems.append(
                Problem(
                    f"{path}.account",
                    "trusted account is not in the organization",
                    show(entry.account),
                    "the name or id of an entry in accounts, or a partner declared "
                    "with partnerAccountId",
                    (
                        f"if {entry.account} is an external partner, write "
                        f'partnerAccountId: "{entry.account}" and set externalId'
                    )
                    if is_id
                    else suggest(
                        entry.account,
                        sorted(organization.account_by_name),
                        "use the name of an account entry",
                    ),
                )
            )
            return None
        return TrustEntry("account", (account.id,), None, None, roles)
    unit = entry.organizational_unit
    assert unit is not None
    if unit not in organization.units:
        problems.append(
            _unknown_unit(
                f"{path}.organizationalUnit", unit, sorted(organization.units)
            )
        )
        return None
    members = organization.accounts_in_unit(unit)
    if not members and organization.unresolved:
        return None
    if not members:
        problems.append(
            Problem(
                f"{path}.organizationalUnit",
                "organizational unit has no accounts in this configuration",
                show(unit),
                "a unit with at least one entry in accounts",
                "add the unit's accounts, or trust them by name",
            )
        )
        return None
    return TrustEntry(
        "unit",
        tuple(sorted(account.id for account in members)),
        unit,
        organization.units[unit].path,
        roles,
    )


def _statement_template(
    statement: StatementConfig, path: str, problems: list[Problem]
) -> dict[str, Any] | None:
    resources = []
    failed = False
    for index, resource in enumerate(statement.resources):
        expanded, reason = expand_resource(resource)
        if reason is not None:
            failed = True
            problems.append(
                Problem(
                    f"{path}.resources[{index}]",
                    f"invalid resource: {reason}",
                    show(resource),
                    '"*", an ARN, or "service:resource" for the target account and '
                    "region; placeholders {account}, {region}, {partition}",
                    "for example dynamodb:table/shared-* or "
                    "arn:{partition}:s3:::bucket/*",
                )
            )
        else:
            resources.append(expanded)
    for operator, keys in sorted(statement.conditions.items()):
        if not iam_catalog.known_operator(operator):
            failed = True
            problems.append(
                Problem(
                    f"{path}.conditions.{operator}",
                    "unknown condition operator",
                    show(operator),
                    "an IAM condition operator such as StringEquals, ArnLike, Bool, "
                    "with IfExists or ForAnyValue:/ForAllValues: where IAM allows",
                    suggest(
                        operator,
                        sorted(iam_catalog.CONDITION_OPERATORS),
                        "check the operator's spelling",
                    ),
                )
            )
        for key in sorted(keys):
            if not iam_catalog.known_condition_key(key):
                failed = True
                problems.append(
                    Problem(
                        f"{path}.conditions.{operator}.{key}",
                        "unknown condition key",
                        show(key),
                        "a global key (aws:...) or a key of the service it names",
                        suggest(
                            key,
                            iam_catalog.close_condition_keys(key),
                            "check the key in the Service Authorization Reference",
                        ),
                    )
                )
    if failed:
        return None
    document: dict[str, Any] = {
        "Effect": statement.effect,
        "Action": list(statement.actions),
        "Resource": resources,
    }
    if statement.sid:
        document["Sid"] = statement.sid
    if statement.conditions:
        document["Condition"] = {
            operator: dict(keys) for operator, keys in statement.conditions.items()
        }
    return document


def expand_resource(resource: str) -> tuple[str, str | None]:
    """Expand a resource to an ARN template; return it and why it is invalid, if so.

    `dynamodb:table/shared-*` becomes
    `arn:{partition}:dynamodb:{region}:{account}:table/shared-*`, so a statement is
    scoped to the account and region it is deployed in unless it writes a wildcard.
    """
    for name in PLACEHOLDER.findall(resource):
        if name not in PLACEHOLDERS:
            return resource, f"unknown placeholder {{{name}}}"
    if resource == "*":
        return resource, None
    if resource.startswith("arn:"):
        if len(resource.split(":", 5)) != 6:
            return resource, "an ARN has six parts separated by ':'"
        return resource, None
    service, separator, rest = resource.partition(":")
    if not separator or not rest or not re.match(r"^[a-z0-9-]+$", service):
        return resource, 'neither "*", an ARN, nor "service:resource"'
    region, account = GLOBAL_SERVICES.get(service, ("{region}", "{account}"))
    return f"arn:{{partition}}:{service}:{region}:{account}:{rest}", None


def resolve_roles(
    values: Any, organization: Any, problems: list[Problem], *, secret: bool = False
) -> tuple[ExecutionRole, ...]:
    """Validate `executionRoles` and resolve its references against the organization."""
    configs = parse_list(
        ExecutionRoleConfig,
        values,
        "executionRoles",
        problems,
        allow_empty=True,
        secret=secret,
    )
    if configs is None or organization is None:
        return ()
    roles: list[ExecutionRole] = []
    for index, config in enumerate(configs):
        if config is None:
            continue
        path = f"executionRoles[{index}]"
        before = len(problems)
        targets = _targets(config, path, organization, problems)
        trust = [
            _trust_entry(
                entry,
                f"{path}.trustedPrincipals[{position}]",
                organization,
                config.external_id is not None,
                problems,
            )
            for position, entry in enumerate(config.trusted_principals)
        ]
        statements = [
            _statement_template(statement, f"{path}.statements[{position}]", problems)
            for position, statement in enumerate(config.statements)
        ]
        problems.extend(_duplicate_sids(config.statements, path))
        problems.extend(_foreign_partitions(config, path, organization.partition))
        if len(problems) != before:
            continue
        roles.append(
            ExecutionRole(
                index=index,
                name=config.name,
                description=config.description,
                path=config.path,
                target_accounts=targets,
                trust=tuple(
                    sorted(
                        (entry for entry in trust if entry is not None), key=_entry_key
                    )
                ),
                external_id=Secret(config.external_id)
                if config.external_id is not None
                else None,
                require_mfa=config.require_mfa,
                allow_session_tags=config.allow_session_tags,
                allow_source_identity=config.allow_source_identity,
                max_session_duration=config.max_session_duration,
                permissions_boundary=config.permissions_boundary,
                managed_policy_arns=tuple(sorted(set(config.managed_policy_arns))),
                statements=tuple(
                    statement for statement in statements if statement is not None
                ),
            )
        )
    _check_unique_names(configs, organization, problems)
    return tuple(sorted(roles, key=lambda role: (role.name.lower(), role.index)))


def _foreign_partitions(
    config: ExecutionRoleConfig, path: str, partition: str
) -> list[Problem]:
    """Report policy ARNs written for another partition than the organization's."""
    problems = []
    arns = [(f"{path}.permissionsBoundary", config.permissions_boundary)] + [
        (f"{path}.managedPolicyArns[{index}]", arn)
        for index, arn in enumerate(config.managed_policy_arns)
    ]
    for where, arn in arns:
        if arn is None:
            continue
        written = arn.split(":")[1]
        if written not in ("{partition}", partition):
            problems.append(
                Problem(
                    where,
                    f"policy ARN is in the {written} partition, the organization in "
                    f"{partition}",
                    show(arn),
                    f"an ARN of the {partition} partition, or written with "
                    "{partition}",
                    "write arn:{partition}:iam::...",
                )
            )
    return problems


def _duplicate_sids(statements: list[StatementConfig], path: str) -> list[Problem]:
    """Report statement ids used twice: IAM requires them unique in a policy."""
    problems = []
    seen: dict[str, int] = {}
    for position, statement in enumerate(statements):
        if statement.sid is None:
            continue
        if statement.sid in seen:
            problems.append(
                Problem(
                    f"{path}.statements[{position}].sid",
                    "duplicate statement id",
                    show(statement.sid),
                    "a sid used by one statement of the role only",
                    f"rename it; statements[{seen[statement.sid]}] already uses it",
                )
            )
        seen.setdefault(statement.sid, position)
    return problems


def _entry_key(entry: TrustEntry) -> tuple[Any, ...]:
    return (entry.kind, entry.account_ids, entry.unit or "", entry.roles)


def _check_unique_names(
    configs: list[Any], organization: Any, problems: list[Problem]
) -> None:
    """IAM role names are unique per account ignoring case."""
    seen: dict[tuple[str, str], int] = {}
    for index, config in enumerate(configs):
        if config is None:
            continue
        role_targets = _targets(config, "", organization, [])
        for account in role_targets:
            key = (account, config.name.casefold())
            if key in seen and seen[key] != index:
                problems.append(
                    Problem(
                        f"executionRoles[{index}].name",
                        f"role name already used in account {account} "
                        "(IAM compares role names ignoring case)",
                        show(config.name),
                        "a role name unique in each target account",
                        f"rename it; executionRoles[{seen[key]}] already creates it "
                        "there",
                    )
                )
                break
            seen.setdefault(key, index)


def unit_statement_id(unit: str) -> str:
    """Return the Sid of a unit's trust statements, for example OrgUnitWorkloadsProd.

    The configuration check rejects two units whose Sids would be equal.
    """
    return "OrgUnit" + "".join(part[:1].upper() + part[1:] for part in unit.split("-"))
