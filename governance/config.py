"""The organization's configuration: models, loading and validation.

The stack configuration lives under the `org-governance` namespace. `load` takes the
values of its keys (namespace removed, structured values already decoded) and returns
a validated `Organization`, or raises `ConfigError` with every problem it found:
field formats first, entry by entry, then the references between entries.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pydantic
from pydantic import Field, TypeAdapter

from governance import aws_formats, budgets, layers
from governance.fields import (
    AccountId,
    AccountName,
    Email,
    ManagedPoliciesPerRole,
    Model,
    OrganizationalUnitId,
    OrganizationId,
    Region,
    RoleName,
    RootId,
    Tags,
    TrustPolicyLength,
    UnitName,
    suggest,
)
from governance.network import (
    Network,
    NetworkConfig,
    NetworkDefaults,
    check_networks,
    resolve_network,
)
from governance.parsing import SECRET_FIELDS, parse, parse_list
from governance.problems import SECRET_MASK, ConfigError, Problem, show
from governance.roles import (
    ExecutionRole,
    ExecutionRoleConfig,
    resolve_roles,
    unit_statement_id,
)

log = logging.getLogger(__name__)

NAMESPACE = "org-governance"
DEFAULT_DEPLOYMENT_ROLE = "OrganizationAccountAccessRole"

# The management account's provider is named after it, so no member account may be.
MANAGEMENT_NAME = "management"

# The project that contains this package: where layer content and the layer lock
# file are read from unless the caller names another directory.
DEFAULT_PROJECT_DIR = Path(__file__).resolve().parent.parent


class OrganizationalUnitConfig(Model):
    """An organizational unit: its name here, its id, and its parent unit if any."""

    name: UnitName
    id: OrganizationalUnitId
    parent: UnitName | None = None


class QuotasConfig(Model):
    """IAM quotas of the organization's accounts, where AWS lets them be raised."""

    trust_policy_length: TrustPolicyLength = aws_formats.TRUST_POLICY_LENGTH_DEFAULT
    managed_policies_per_role: ManagedPoliciesPerRole = (
        aws_formats.MANAGED_POLICIES_PER_ROLE_DEFAULT
    )


class OrganizationConfig(Model):
    """Organization-wide settings: ids, deployment role, region, tags and budget."""

    id: OrganizationId
    root_id: RootId
    management_account_id: AccountId
    # No default, because Organizations creates OrganizationAccountAccessRole in
    # member accounts and not in the management account.
    management_role_name: RoleName = Field(
        json_schema_extra={
            "allowed": "the name of a role in the management account that the "
            "deployment credentials may assume, for example "
            "OrgGovernanceDeploymentRole",
            "fix": "create that role in the management account and name it in "
            "managementRoleName; OrganizationAccountAccessRole exists only in "
            "member accounts that Organizations created",
        }
    )
    deployment_role_name: RoleName = DEFAULT_DEPLOYMENT_ROLE
    default_region: Region
    tags: Tags = Field(default_factory=dict)
    organizational_units: list[OrganizationalUnitConfig] = Field(min_length=1)
    quotas: QuotasConfig = Field(default_factory=QuotasConfig)
    budget: budgets.OrganizationBudgetConfig | None = None
    network: NetworkDefaults | None = None


class AccountConfig(Model):
    """One member account: the only entry needed to onboard it."""

    name: AccountName
    id: AccountId
    organizational_unit: UnitName
    region: Region | None = None
    email: Email | None = None
    tags: Tags = Field(default_factory=dict)
    deployment_role_name: RoleName | None = None
    budget: budgets.BudgetConfig | None = None
    network: NetworkConfig | None = None


@dataclass(frozen=True)
class OrganizationalUnit:
    """A validated organizational unit with its path for `aws:PrincipalOrgPaths`.

    The path is `o-<org>/r-<root>/ou-<parent>/.../ou-<unit>/`, as AWS writes it.
    """

    name: str
    id: str
    parent: str | None
    path: str


@dataclass(frozen=True)
class Account:
    """A validated member account with every default resolved."""

    name: str
    id: str
    organizational_unit: str
    region: str
    partition: str
    deployment_role_name: str
    email: str | None
    tags: Mapping[str, str]
    budget: budgets.AccountBudget | None = None
    network: Network | None = None


@dataclass(frozen=True)
class Organization:
    """The validated organization: settings, units and accounts sorted by name."""

    id: str
    root_id: str
    management_account_id: str
    management_role_name: str
    default_region: str
    partition: str
    tags: Mapping[str, str]
    units: Mapping[str, OrganizationalUnit]
    accounts: tuple[Account, ...]
    account_by_name: Mapping[str, Account] = field(repr=False)
    trust_policy_length: int = aws_formats.TRUST_POLICY_LENGTH_DEFAULT
    managed_policies_per_role: int = aws_formats.MANAGED_POLICIES_PER_ROLE_DEFAULT
    execution_roles: tuple[ExecutionRole, ...] = ()
    # Names and ids of account entries left out because they are invalid; only
    # while problems are reported, so references to them raise no second problem.
    unresolved: frozenset[str] = frozenset()
    anomaly_detection: budgets.AnomalyDetection | None = None
    layers: tuple[layers.Layer, ...] = ()
    # Risky but valid input found while loading, as problems that do not fail.
    warnings: tuple[Problem, ...] = ()

    def accounts_in_unit(self, unit: str) -> tuple[Account, ...]:
        """Return the accounts in a unit or in any unit below it."""
        return tuple(
            account
            for account in self.accounts
            if self.units[account.organizational_unit].path.startswith(
                self.units[unit].path
            )
        )


# Keys of the namespace and the model that validates each one. Later features add
# their keys here; a key that is not listed is reported as unknown.
TOP_LEVEL_KEYS: dict[str, Any] = {
    "organization": OrganizationConfig,
    "accounts": list[AccountConfig],
    "executionRoles": list[ExecutionRoleConfig],
    "layers": list[layers.LayerConfig],
    # Keys of an organization split over stacks, checked by governance.shards.
    "shared": str,
    "shard": dict,
    "shards": dict,
    "secrets": dict,
}
REQUIRED_KEYS = ("organization", "accounts")


def load(
    values: Mapping[str, Any],
    secret_keys: frozenset[str] = frozenset(),
    project_dir: Path | None = None,
    secret_paths: frozenset[str] | None = None,
) -> Organization:
    """Validate the namespace's config values and return the organization.

    `values` maps each key of the namespace without its prefix (`accounts`) to its
    decoded value; `secret_keys` names the keys the CLI marked secret.
    `project_dir` is where layer content and the layer lock file are read
    (default: the project holding this package). `secret_paths`, known when the
    stack file was read here, names each encrypted value, so every external id can
    be checked to be one. Raises ConfigError with every problem found; warnings go
    to `Organization.warnings`.
    """
    problems: list[Problem] = []
    for key in sorted(values):
        if key not in TOP_LEVEL_KEYS:
            problems.append(
                _unknown_top_level_key(key, values[key], key in secret_keys)
            )
    for key in REQUIRED_KEYS:
        if values.get(key) is None:
            problems.append(_missing_top_level_key(key))

    organization = parse(
        OrganizationConfig, values.get("organization"), "organization", problems
    )
    accounts = parse_list(
        AccountConfig,
        values.get("accounts"),
        "accounts",
        problems,
        empty_fix="add an entry for each member account this stack governs",
    )
    # An empty list is no layers, not a mistake as it is for accounts.
    layer_entries = parse_list(
        layers.LayerConfig, values.get("layers") or None, "layers", problems
    )
    layer_check = layers.check_layers(
        layer_entries or [],
        organization,
        _account_names(values.get("accounts"), accounts),
        project_dir or DEFAULT_PROJECT_DIR,
    )
    problems.extend(layer_check.problems)
    if organization is not None:
        problems.extend(_check_units(organization))
    if accounts is not None:
        # An entry with one bad field is still checked for its references.
        checked = [
            entry if entry is not None else _partial_account(raw)
            for entry, raw in zip(accounts, values["accounts"], strict=True)
        ]
        problems.extend(_check_accounts(organization, checked))
        # So are its network and budget, when they are valid on their own.
        problems.extend(
            check_networks(
                organization.id if organization else None,
                organization.default_region if organization else None,
                organization.network if organization else None,
                checked,
            )
        )
    if organization is not None and accounts is not None:
        problems.extend(
            budgets.check(
                organization.budget,
                {
                    index: account.budget
                    for index, account in enumerate(checked)
                    if account is not None
                },
            )
        )

    # References from the features are checked against the valid accounts; a
    # reference to an invalid one is left to that account's own problems.
    base = None
    if (
        organization is not None
        and accounts is not None
        and not _check_units(organization)
    ):
        usable, unresolved = _usable_accounts(organization, accounts, values)
        base = _build(organization, usable, unresolved, features=False)
    roles = resolve_roles(
        values.get("executionRoles"),
        base,
        problems,
        secret="executionRoles" in secret_keys,
    )
    problems.extend(_plain_secrets(values, secret_keys, secret_paths))

    if problems:
        raise ConfigError(problems)
    assert organization is not None and accounts is not None
    base = _build(organization, [entry for entry in accounts if entry is not None])
    built_layers, unit_warnings = layers.build_layers(
        [entry for entry in layer_entries or [] if entry is not None],
        layer_check.archives,
        base,
    )
    return dataclasses.replace(
        base,
        execution_roles=roles,
        layers=built_layers,
        warnings=tuple(
            sorted(
                {
                    *layer_check.warnings,
                    *unit_warnings,
                    *_management_role_warnings(organization),
                }
            )
        ),
    )


def _management_role_warnings(organization: OrganizationConfig) -> list[Problem]:
    if organization.management_role_name != DEFAULT_DEPLOYMENT_ROLE:
        return []
    return [
        Problem(
            "organization.managementRoleName",
            f"{DEFAULT_DEPLOYMENT_ROLE} exists in a management account only if "
            "someone created it there; Organizations creates it in member accounts",
            show(organization.management_role_name),
            "a role that exists in the management account",
            "keep the name if you created that role in the management account; "
            "otherwise create a role for the program there and name it here",
        )
    ]


def _partial_account(raw: Any) -> AccountConfig | None:
    """Return the valid fields of an invalid account entry, the others None."""
    if not isinstance(raw, dict):
        return None
    fields: dict[str, Any] = {}
    for name, field_info in AccountConfig.model_fields.items():
        alias = field_info.alias or name
        value = raw.get(alias)
        if value is None:
            fields[name] = None
            continue
        annotation = field_info.annotation
        if field_info.metadata:
            annotation = Annotated[annotation, *field_info.metadata]
        adapter = TypeAdapter(annotation)
        try:
            fields[name] = adapter.validate_python(value)
        except pydantic.ValidationError:
            fields[name] = None
    return AccountConfig.model_construct(**fields)


def _usable_accounts(
    organization: OrganizationConfig,
    accounts: list[AccountConfig | None],
    values: Mapping[str, Any],
) -> tuple[list[AccountConfig], frozenset[str]]:
    """Split the entries into valid accounts and the names and ids of the others."""
    units = {unit.name for unit in organization.organizational_units}
    usable: list[AccountConfig] = []
    unresolved: set[str] = set()
    seen: set[str] = set()
    for entry, raw in zip(accounts, values["accounts"], strict=True):
        keys = {entry.name.casefold(), entry.id} if entry is not None else set()
        if (
            entry is None
            or entry.organizational_unit not in units
            or keys & seen
            or entry.id == organization.management_account_id
        ):
            if isinstance(raw, dict):
                unresolved.update(
                    str(raw[key]) for key in ("name", "id") if raw.get(key) is not None
                )
            continue
        seen.update(keys)
        usable.append(entry)
    return usable, frozenset(unresolved)


def _account_names(
    raw: Any, accounts: list[AccountConfig | None] | None
) -> list[str] | None:
    """Name every account entry, the invalid ones by the name they were given.

    Other keys refer to accounts by name; an entry that failed validation for
    another reason must not make those references look unknown as well.
    """
    if accounts is None:
        return None
    names = set()
    for entry, account in zip(raw, accounts, strict=True):
        if account is not None:
            names.add(account.name)
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
            names.add(entry["name"])
    return sorted(names)


def _plain_secrets(
    values: Mapping[str, Any],
    secret_keys: frozenset[str],
    secret_paths: frozenset[str] | None,
) -> list[Problem]:
    """Report external ids in plain text, and secure values the program would leak.

    With the paths of the encrypted values, each external id is checked on its own.
    Under `pulumi up` the CLI only marks the keys that contain a secret, so one
    encrypted value anywhere in `executionRoles` is all that can be checked there.
    """
    problems = []
    roles = values.get("executionRoles")
    if isinstance(roles, list):
        for index, role in enumerate(roles):
            if not isinstance(role, dict) or "externalId" not in role:
                continue
            path = f"executionRoles[{index}].externalId"
            encrypted = (
                path in secret_paths
                if secret_paths is not None
                else "executionRoles" in secret_keys
            )
            if not encrypted:
                problems.append(
                    Problem(
                        path,
                        "external id is stored as plain text",
                        SECRET_MASK,
                        "a secret value in the stack file (secure: ...)",
                        "delete the plain value, then run `pulumi config set "
                        f"--secret --path '{path}' VALUE`",
                    )
                )
    for path in sorted(secret_paths or ()):
        if path.rsplit(".", 1)[-1] not in SECRET_FIELDS:
            problems.append(
                Problem(
                    path,
                    "secure value where the program expects plain text",
                    SECRET_MASK,
                    "encrypted values only in externalId",
                    "write the value in plain text; the program would pass it to "
                    "AWS unencrypted, and Pulumi would not mask it",
                )
            )
    return problems


def _unknown_top_level_key(key: str, value: Any, secret: bool) -> Problem:
    known = sorted(TOP_LEVEL_KEYS)
    return Problem(
        f"{NAMESPACE}:{key}",
        "unknown configuration key",
        SECRET_MASK if secret else show(value),
        f"keys of the {NAMESPACE} namespace: " + ", ".join(known),
        suggest(key, known, "remove the key or use one of the keys listed"),
    )


def _missing_top_level_key(key: str) -> Problem:
    return Problem(
        f"{NAMESPACE}:{key}",
        "missing configuration key",
        "nothing",
        "a value"
        if key == "organization"
        else "a list with one entry per member account",
        f"add `{NAMESPACE}:{key}` to the stack file",
    )


def _check_units(organization: OrganizationConfig) -> list[Problem]:
    problems = []
    units = organization.organizational_units
    seen_names: dict[str, int] = {}
    seen_keys: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for index, unit in enumerate(units):
        path = f"organization.organizationalUnits[{index}]"
        # A unit's name becomes the Sid of its trust statements, and Sids in one
        # policy must differ: compare the names as their Sids, ignoring case.
        key = unit_statement_id(unit.name).lower()
        if key in seen_keys:
            problems.append(
                Problem(
                    f"{path}.name",
                    "duplicate organizational unit name (compared ignoring case and "
                    "hyphens, as the statement ids made from them)",
                    show(unit.name),
                    "a name used by one unit only",
                    f"rename it; organizationalUnits[{seen_keys[key]}] already uses "
                    "an equal name",
                )
            )
        seen_keys.setdefault(key, index)
        seen_names.setdefault(unit.name, index)
        if unit.id in seen_ids:
            problems.append(
                Problem(
                    f"{path}.id",
                    "duplicate organizational unit id",
                    show(unit.id),
                    "an id used by one unit only",
                    f"correct it; organizationalUnits[{seen_ids[unit.id]}] "
                    "already uses it",
                )
            )
        seen_ids.setdefault(unit.id, index)
    names = sorted(seen_names)
    for index, unit in enumerate(units):
        if unit.parent is not None and unit.parent not in seen_names:
            problems.append(
                Problem(
                    f"organization.organizationalUnits[{index}].parent",
                    "unknown parent organizational unit",
                    show(unit.parent),
                    "the name of a unit in organization.organizationalUnits: "
                    + ", ".join(names),
                    suggest(
                        unit.parent,
                        names,
                        "use one of the units listed, or leave out parent for a "
                        "unit directly under the root",
                    ),
                )
            )
    by_name = {unit.name: unit for unit in units}
    for index, unit in enumerate(units):
        chain = [unit.name]
        current = unit
        while current.parent is not None and current.parent in by_name:
            if current.parent in chain:
                if current.parent != unit.name:
                    # The unit leads into a cycle; the units on it are reported.
                    break
                problems.append(
                    Problem(
                        f"organization.organizationalUnits[{index}].parent",
                        "organizational units form a cycle",
                        show(unit.parent),
                        "a parent chain that ends at the root",
                        "cycle: "
                        + " -> ".join([*chain, current.parent])
                        + "; remove one parent",
                    )
                )
                break
            chain.append(current.parent)
            current = by_name[current.parent]
    return problems


# AWS allows 50 tags per resource, and every provider adds the stack tag.
MAX_USER_TAGS = aws_formats.MAX_TAGS_PER_RESOURCE - 1


def _check_accounts(
    organization: OrganizationConfig | None, accounts: list[AccountConfig | None]
) -> list[Problem]:
    problems: list[Problem] = []
    names: dict[str, int] = {}
    ids: dict[str, int] = {}
    unit_names = (
        sorted(unit.name for unit in organization.organizational_units)
        if organization
        else None
    )
    partition = (
        aws_formats.partition_of(organization.default_region) if organization else None
    )
    for index, account in enumerate(accounts):
        if account is None:
            continue
        path = f"accounts[{index}]"
        folded = account.name.casefold() if account.name is not None else None
        if folded is not None and folded in names:
            problems.append(
                Problem(
                    f"{path}.name",
                    "duplicate account name (names are compared ignoring case)",
                    show(account.name),
                    "a name used by one account only",
                    f"rename it; accounts[{names[folded]}] already uses it",
                )
            )
        if folded is not None:
            names.setdefault(folded, index)
        if organization is not None:
            merged = {**organization.tags, **(account.tags or {})}
            if len(merged) > MAX_USER_TAGS:
                problems.append(
                    Problem(
                        f"{path}.tags",
                        f"{len(merged)} tags with the organization's, over the "
                        f"{MAX_USER_TAGS} left beside the program's stack tag",
                        f"{len(merged)} tags",
                        f"at most {MAX_USER_TAGS} tags for the organization and the "
                        "account together (AWS allows 50 per resource)",
                        "remove tags from the account or the organization",
                    )
                )
        if account.id is not None and account.id in ids:
            problems.append(
                Problem(
                    f"{path}.id",
                    "duplicate account id",
                    show(account.id),
                    "one entry per member account",
                    "remove the entry or correct the id; "
                    f"accounts[{ids[account.id]}] already has it",
                )
            )
        if account.id is not None:
            ids.setdefault(account.id, index)
        if account.name == MANAGEMENT_NAME:
            problems.append(
                Problem(
                    f"{path}.name",
                    "reserved account name",
                    show(account.name),
                    f"any name but {MANAGEMENT_NAME!r}, which names the management "
                    "account's provider",
                    "rename it",
                )
            )
        if organization is None:
            continue
        if account.id == organization.management_account_id:
            problems.append(
                Problem(
                    f"{path}.id",
                    "the management account is not a member account",
                    show(account.id),
                    "the id of a member account",
                    "remove the entry; organization-level resources go to the "
                    "management account's provider",
                )
            )
        if (
            unit_names is not None
            and account.organizational_unit is not None
            and account.organizational_unit not in unit_names
        ):
            problems.append(
                Problem(
                    f"{path}.organizationalUnit",
                    "unknown organizational unit",
                    show(account.organizational_unit),
                    "the name of a unit in organization.organizationalUnits: "
                    + ", ".join(unit_names),
                    suggest(
                        account.organizational_unit,
                        unit_names,
                        "use one of the units listed, or add the unit to "
                        "organization.organizationalUnits",
                    ),
                )
            )
        if (
            account.region is not None
            and aws_formats.partition_of(account.region) != partition
        ):
            problems.append(
                Problem(
                    f"{path}.region",
                    "region is in another partition than the organization",
                    show(account.region),
                    f"a region of the {partition} partition, like "
                    "organization.defaultRegion",
                    "choose a region of the organization's partition",
                )
            )
    return problems


def _build(
    config: OrganizationConfig,
    accounts: list[AccountConfig],
    unresolved: frozenset[str] = frozenset(),
    *,
    features: bool = True,
) -> Organization:
    """Build the organization; without `features`, leave out budgets and networks.

    `load` builds it without features while problems are still being collected, to
    check references against it: a feature's settings may be invalid then.
    """
    by_name = {unit.name: unit for unit in config.organizational_units}

    def unit_path(name: str) -> str:
        unit = by_name[name]
        prefix = (
            unit_path(unit.parent) if unit.parent else f"{config.id}/{config.root_id}/"
        )
        return f"{prefix}{unit.id}/"

    units = {
        name: OrganizationalUnit(
            name=name, id=unit.id, parent=unit.parent, path=unit_path(name)
        )
        for name, unit in sorted(by_name.items())
    }
    partition = aws_formats.partition_of(config.default_region)
    built = tuple(
        Account(
            name=account.name,
            id=account.id,
            organizational_unit=account.organizational_unit,
            region=account.region or config.default_region,
            partition=partition,
            deployment_role_name=account.deployment_role_name
            or config.deployment_role_name,
            email=account.email,
            tags={**config.tags, **account.tags},
            # `load` has reported the budget problems, so only the settings are kept.
            budget=budgets.resolve_account_budget(
                config.budget, account.budget, f"accounts.{account.name}"
            )[0]
            if features
            else None,
            network=resolve_network(account.network, config.network)
            if features
            else None,
        )
        for account in sorted(accounts, key=lambda account: account.name)
    )
    return Organization(
        id=config.id,
        root_id=config.root_id,
        management_account_id=config.management_account_id,
        management_role_name=config.management_role_name,
        default_region=config.default_region,
        partition=partition,
        tags=dict(config.tags),
        units=units,
        accounts=built,
        account_by_name={account.name: account for account in built},
        trust_policy_length=config.quotas.trust_policy_length,
        managed_policies_per_role=config.quotas.managed_policies_per_role,
        unresolved=unresolved,
        anomaly_detection=budgets.resolve_anomaly_detection(config.budget)[0]
        if features
        else None,
    )
