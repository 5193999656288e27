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
from typing import Any

from pydantic import Field

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
from governance.parsing import parse, parse_list
from governance.problems import SECRET_MASK, ConfigError, Problem, show
from governance.roles import ExecutionRole, ExecutionRoleConfig, resolve_roles

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
    management_role_name: RoleName | None = None
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
) -> Organization:
    """Validate the namespace's config values and return the organization.

    `values` maps each key of the namespace without its prefix (`accounts`) to its
    decoded value; `secret_keys` names the keys the CLI marked secret.
    `project_dir` is where layer content and the layer lock file are read
    (default: the project holding this package). Raises ConfigError with every
    problem found; warnings go to `Organization.warnings`.
    """
    problems: list[Problem] = []
    for key in sorted(values):
        if key not in TOP_LEVEL_KEYS:
            problems.append(_unknown_top_level_key(key, values[key]))
    for key in REQUIRED_KEYS:
        if key not in values:
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
        problems.extend(_check_accounts(organization, accounts))
        problems.extend(
            check_networks(
                organization.id if organization else None,
                organization.default_region if organization else None,
                organization.network if organization else None,
                accounts,
            )
        )
    if organization is not None and accounts is not None:
        problems.extend(
            budgets.check(
                organization.budget,
                {
                    index: account.budget
                    for index, account in enumerate(accounts)
                    if account is not None
                },
            )
        )

    # References from the features are checked only against a valid organization.
    base = None
    if not problems and organization is not None and accounts is not None:
        base = _build(organization, [entry for entry in accounts if entry is not None])
    roles = resolve_roles(values.get("executionRoles"), base, problems)
    problems.extend(_plain_secrets(values, secret_keys))

    if problems:
        raise ConfigError(problems)
    assert base is not None
    built_layers, unit_warnings = layers.build_layers(
        [entry for entry in layer_entries or [] if entry is not None],
        layer_check.archives,
        base,
    )
    return dataclasses.replace(
        base,
        execution_roles=roles,
        layers=built_layers,
        warnings=tuple(sorted({*layer_check.warnings, *unit_warnings})),
    )


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
    values: Mapping[str, Any], secret_keys: frozenset[str]
) -> list[Problem]:
    """Report external ids written as plain text: they must be Pulumi secrets."""
    problems = []
    roles = values.get("executionRoles")
    if "executionRoles" in secret_keys or not isinstance(roles, list):
        return problems
    for index, role in enumerate(roles):
        if isinstance(role, dict) and "externalId" in role:
            path = f"executionRoles[{index}].externalId"
            problems.append(
                Problem(
                    path,
                    "external id is stored as plain text",
                    SECRET_MASK,
                    "a secret value in the stack file (secure: ...)",
                    f"delete the plain value, then run `pulumi config set --secret "
                    f"--path '{path}' VALUE`",
                )
            )
    return problems


def _unknown_top_level_key(key: str, value: Any) -> Problem:
    known = sorted(TOP_LEVEL_KEYS)
    return Problem(
        f"{NAMESPACE}:{key}",
        "unknown configuration key",
        show(value),
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
    seen_ids: dict[str, int] = {}
    for index, unit in enumerate(units):
        path = f"organization.organizationalUnits[{index}]"
        if unit.name in seen_names:
            problems.append(
                Problem(
                    f"{path}.name",
                    "duplicate organizational unit name",
                    show(unit.name),
                    "a name used by one unit only",
                    f"rename it; organizationalUnits[{seen_names[unit.name]}] "
                    "already uses it",
                )
            )
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
        folded = account.name.casefold()
        if folded in names:
            problems.append(
                Problem(
                    f"{path}.name",
                    "duplicate account name (names are compared ignoring case)",
                    show(account.name),
                    "a name used by one account only",
                    f"rename it; accounts[{names[folded]}] already uses it",
                )
            )
        names.setdefault(folded, index)
        if account.id in ids:
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
        if unit_names is not None and account.organizational_unit not in unit_names:
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


def _build(config: OrganizationConfig, accounts: list[AccountConfig]) -> Organization:
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
            )[0],
            network=resolve_network(account.network, config.network),
        )
        for account in sorted(accounts, key=lambda account: account.name)
    )
    return Organization(
        id=config.id,
        root_id=config.root_id,
        management_account_id=config.management_account_id,
        management_role_name=config.management_role_name or config.deployment_role_name,
        default_region=config.default_region,
        partition=partition,
        tags=dict(config.tags),
        units=units,
        accounts=built,
        account_by_name={account.name: account for account in built},
        trust_policy_length=config.quotas.trust_policy_length,
        managed_policies_per_role=config.quotas.managed_policies_per_role,
        anomaly_detection=budgets.resolve_anomaly_detection(config.budget)[0],
    )
