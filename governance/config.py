"""The organization's configuration: models, loading and validation.

The stack configuration lives under the `org-governance` namespace. `load` takes the
values of its keys (namespace removed, structured values already decoded) and returns
a validated `Organization`, or raises `ConfigError` with every problem it found:
field formats first, entry by entry, then the references between entries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic
from pydantic import Field

from governance import aws_formats
from governance.fields import (
    ERROR_TYPE,
    AccountId,
    AccountName,
    Email,
    Model,
    OrganizationalUnitId,
    OrganizationId,
    Region,
    RoleName,
    RootId,
    Tags,
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
from governance.problems import SECRET_MASK, ConfigError, Problem, show

log = logging.getLogger(__name__)

NAMESPACE = "org-governance"
DEFAULT_DEPLOYMENT_ROLE = "OrganizationAccountAccessRole"

# The management account's provider is named after it, so no member account may be.
MANAGEMENT_NAME = "management"


class OrganizationalUnitConfig(Model):
    """An organizational unit: its name here, its id, and its parent unit if any."""

    name: UnitName
    id: OrganizationalUnitId
    parent: UnitName | None = None


class OrganizationConfig(Model):
    """Organization-wide settings: ids, the deployment role, region and tags."""

    id: OrganizationId
    root_id: RootId
    management_account_id: AccountId
    management_role_name: RoleName | None = None
    deployment_role_name: RoleName = DEFAULT_DEPLOYMENT_ROLE
    default_region: Region
    tags: Tags = Field(default_factory=dict)
    organizational_units: list[OrganizationalUnitConfig] = Field(min_length=1)
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
}
REQUIRED_KEYS = ("organization", "accounts")


def load(
    values: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()
) -> Organization:
    """Validate the namespace's config values and return the organization.

    `values` maps each key of the namespace without its prefix (`accounts`) to its
    decoded value. `secret_keys` names the keys whose values are secrets, so no
    error message prints them. Raises ConfigError with every problem found.
    """
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}

    for key in sorted(values):
        if key not in TOP_LEVEL_KEYS:
            problems.append(_unknown_top_level_key(key, values[key]))
    for key in REQUIRED_KEYS:
        if key not in values:
            problems.append(_missing_top_level_key(key))

    organization = _parse(
        OrganizationConfig,
        values.get("organization"),
        "organization",
        problems,
        secret_keys,
    )
    accounts = _parse_list(
        AccountConfig, values.get("accounts"), "accounts", problems, secret_keys
    )

    parsed["organization"] = organization
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

    if problems:
        raise ConfigError(problems)
    assert organization is not None and accounts is not None
    return _build(
        organization, [account for account in accounts if account is not None]
    )


def _parse(
    model: type[Model],
    value: Any,
    path: str,
    problems: list[Problem],
    secret_keys: frozenset[str],
) -> Any:
    if value is None:
        return None
    try:
        return model.model_validate(value)
    except pydantic.ValidationError as error:
        problems.extend(
            translate(error, path, model, masked=path.split("[")[0] in secret_keys)
        )
        return None


def _parse_list(
    model: type[Model],
    value: Any,
    path: str,
    problems: list[Problem],
    secret_keys: frozenset[str],
) -> list[Any] | None:
    """Validate each entry of a list on its own, so one bad entry hides no other."""
    if value is None:
        return None
    if not isinstance(value, list):
        problems.append(
            Problem(
                path=path,
                message="not a list",
                found=show(value),
                allowed="a list of entries",
                fix="write one entry per line, each starting with '- '",
            )
        )
        return None
    if not value:
        problems.append(
            Problem(
                path=path,
                message="no entries",
                found="[]",
                allowed="at least one entry",
                fix="add an entry for each member account this stack governs",
            )
        )
        return None
    return [
        _parse(model, entry, f"{path}[{index}]", problems, secret_keys)
        for index, entry in enumerate(value)
    ]


def translate(
    error: pydantic.ValidationError,
    prefix: str,
    model: type[Model],
    masked: bool = False,
) -> list[Problem]:
    """Turn pydantic's errors into problems with the config path of each value."""
    problems = []
    for detail in error.errors(include_url=False):
        path = _join_path(prefix, detail["loc"])
        found = SECRET_MASK if masked else show(detail.get("input"))
        context = detail.get("ctx") or {}
        kind = detail["type"]
        if kind == ERROR_TYPE:
            problems.append(
                Problem(path, detail["msg"], found, context["allowed"], context["fix"])
            )
        elif kind == "extra_forbidden":
            problems.append(_unknown_key(path, detail["loc"], model, found))
        elif kind == "missing":
            problems.append(
                Problem(
                    path,
                    "missing required key",
                    "nothing",
                    "a value",
                    f"add `{path.rsplit('.', 1)[-1]}`",
                )
            )
        else:
            problems.append(
                Problem(
                    path, detail["msg"], found, _expected(kind), "correct the value"
                )
            )
    return problems


def _expected(kind: str) -> str:
    return {
        "string_type": "a string",
        "list_type": "a list",
        "dict_type": "a mapping",
        "model_type": "a mapping of keys to values",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "int_type": "a whole number",
        "int_parsing": "a whole number",
        "too_short": "at least one entry",
    }.get(kind, "a value of the documented type")


def _join_path(prefix: str, loc: tuple[Any, ...]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("function-after", "function-before"):
            continue
        else:
            path += f".{part}"
    return path


def _unknown_key(
    path: str, loc: tuple[Any, ...], model: type[Model], found: str
) -> Problem:
    key = str(loc[-1])
    owner = _model_at(model, loc[:-1])
    known = (
        sorted(field.alias or name for name, field in owner.model_fields.items())
        if owner
        else []
    )
    fix = suggest(key, known, "remove the key or use one of the keys listed")
    return Problem(
        path,
        "unknown key",
        f"{key}: {found}",
        "one of " + ", ".join(known) if known else "no other keys",
        fix if known else "remove the key",
    )


def _model_at(model: type[Model], loc: tuple[Any, ...]) -> type[Model] | None:
    """Follow a location through nested models to the model that owns the last key."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, Model)):
            return None
        fields = {
            field.alias or name: field for name, field in current.model_fields.items()
        }
        if part not in fields:
            return None
        current = _model_in(fields[part].annotation)
    return current if isinstance(current, type) and issubclass(current, Model) else None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


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
    )
