"""One organization split over several stacks: each stack's shard, checked together.

Under `pulumi up` every `aws.Provider` runs as a provider process of its own, so a
stack needs memory in proportion to the accounts it covers. A large organization
is therefore split: its definitions are written once in a shared file
(governance/shared_file.py), and each stack's file names that file and the
accounts the stack covers, by name or by organizational unit:

    # organization.yaml
    organization: {...}
    accounts: [...]
    shards:
      stacks: [prod-core, prod-workloads]
      maxAccountsPerStack: 25

    # Pulumi.prod-core.yaml
    config:
      org-governance:shared: organization.yaml
      org-governance:shard:
        organizationalUnits: [security, infrastructure]
        organizationResources: true

Every stack loads the whole organization, so trust policies and layer permissions
still name accounts that other stacks cover, and every stack reports the same
problems. It reads the other stacks' files, from the project directory, for their
shards: an account no stack covers, or two do, is an error. A stack creates the
providers, roles, layers, endpoints and budgets of its own accounts only, and
exactly one stack (`organizationResources: true`) creates the management
account's provider and the organization-level resources.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictBool

from governance import config, shared_file
from governance.fields import AccountName, Model, UnitName, invalid, suggest
from governance.parsing import parse
from governance.problems import ConfigError, Problem, show
from governance.stack_config import read_stack

NAMESPACE = config.NAMESPACE
SHARDS_KEY = shared_file.SHARDS_KEY

# Accounts one stack may cover before validation warns. Under `pulumi up` each
# account's provider runs as its own process of an estimated 170-430 MB, from user
# reports (https://github.com/pulumi/pulumi-aws/issues/5226, and /5860 with
# pulumi-aws 7.3.1). 25 accounts and the management account then need an estimated
# 4.4-11.2 GB, which fits a CI runner of 16 GB.
DEFAULT_MAX_ACCOUNTS_PER_STACK = 25
# The estimate above, in MB per provider process, for the warning's figures.
PROVIDER_MB_ESTIMATE = (170, 430)

# Stack name as used here: 1-100 letters, digits, "-", "_" and ".", the characters
# the Pulumi CLI accepts in a stack name, without an organization or project part.
# Example: "prod-workloads".
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _check_stack_name(value: Any) -> str:
    if not isinstance(value, str) or not STACK_NAME.match(value):
        raise invalid(
            "invalid stack name",
            'a stack name of 1-100 letters, digits, "-", "_" and ".", without an '
            "organization or project part",
            "write the name as `pulumi stack ls` shows it, for example prod-core",
        )
    return value


def _check_max_accounts(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(
            "maxAccountsPerStack is not a whole number greater than 0",
            "a whole number of accounts, for example 25",
            "write the number unquoted",
        )
    return value


def _unique(values: Any) -> Any:
    if isinstance(values, list):
        for index, value in enumerate(values):
            if value in values[:index]:
                raise invalid(
                    f"{value} is listed twice", "each name once", "remove the duplicate"
                )
    return values


StackName = Annotated[str, BeforeValidator(_check_stack_name)]
MaxAccounts = Annotated[int, BeforeValidator(_check_max_accounts)]


class ShardsConfig(Model):
    """The stacks of a split organization, and the accounts one stack may cover."""

    stacks: Annotated[list[StackName], BeforeValidator(_unique)] = Field(
        default_factory=list
    )
    max_accounts_per_stack: MaxAccounts = DEFAULT_MAX_ACCOUNTS_PER_STACK


class ShardConfig(Model):
    """The accounts one stack covers, and whether it has the organization-level ones.

    An organizational unit covers its accounts and those of the units below it.
    """

    accounts: list[AccountName] = Field(default_factory=list)
    organizational_units: list[UnitName] = Field(default_factory=list)
    organization_resources: StrictBool = False


@dataclass(frozen=True)
class Shard:
    """The accounts one stack creates resources for, by name."""

    stack: str
    accounts: frozenset[str]
    # Whether the stack creates the management account's provider and the
    # organization-level resources (the cost anomaly monitor).
    organization_resources: bool


@dataclass(frozen=True)
class Stacks:
    """The loaded organization and every stack of it, each with its shard."""

    organization: config.Organization
    # None for a stack that is the whole organization.
    shared_file: str | None
    shards: tuple[Shard, ...]
    max_accounts_per_stack: int
    # Warnings about the stacks over the maximum, by stack name.
    warnings: Mapping[str, tuple[Problem, ...]] = field(default_factory=dict)

    def shard(self, stack: str) -> Shard:
        """Return one stack's shard; raises StopIteration for another stack."""
        return next(shard for shard in self.shards if shard.stack == stack)


def load(
    values: Mapping[str, Any],
    secret_keys: frozenset[str],
    project_dir: Path,
    stack: str,
    secret_paths: frozenset[str] | None = None,
) -> tuple[config.Organization, Shard]:
    """Load a stack's configuration: the organization, and the stack's shard.

    A stack without `shared` is the whole organization. The organization's
    warnings include the one about this stack's size. Raises ConfigError with
    every problem, in the stack's keys, in the shared file and across the stacks.
    """
    stacks = resolve(values, secret_keys, project_dir, stack, secret_paths)
    warnings = {*stacks.organization.warnings, *stacks.warnings.get(stack, ())}
    organization = dataclasses.replace(
        stacks.organization, warnings=tuple(sorted(warnings))
    )
    return organization, stacks.shard(stack)


def describe(project_dir: Path, shared: str) -> Stacks:
    """Load a shared file and the shards of all its stacks, with no current stack.

    Secret references take the offline preview's placeholder. Raises
    ConfigError when the organization or a shard is invalid.
    """
    return resolve({"shared": shared}, frozenset(), project_dir, None)


def resolve(
    values: Mapping[str, Any],
    secret_keys: frozenset[str],
    project_dir: Path,
    stack: str | None,
    secret_paths: frozenset[str] | None = None,
) -> Stacks:
    """Load the organization and every stack's shard; `stack` is the current one.

    `values` are the current stack's namespace values; without a current stack
    they hold only `shared`.
    """
    if "shared" not in values:
        assert stack is not None, "a stack without a shared file is its own"
        return _whole_organization(
            values, secret_keys, project_dir, stack, secret_paths
        )
    problems: list[Problem] = []
    shared = shared_file.check_path(values["shared"], project_dir, problems)
    if shared is None:
        raise ConfigError(problems)
    problems.extend(_definitions_in_stack(values, shared))
    if stack is not None:
        problems.extend(shared_file.check_stack_secrets(values, secret_keys))
    document = shared_file.read(project_dir, shared, problems)
    substituted = shared_file.substitute_secrets(
        document, values.get("secrets"), shared, stack, problems
    )
    shards_config = _shards_config(document, shared, problems)
    organization = _load_organization(substituted, project_dir, shared, problems)
    if organization is None or shards_config is None or problems:
        raise ConfigError(problems)

    configs = _shard_configs(
        shards_config, values, project_dir, shared, stack, problems
    )
    coverage = _cover(organization, configs, shards_config.stacks, shared)
    problems.extend(coverage.problems)
    # Which account no stack covers, or two do, is known from valid shards only.
    if not problems:
        problems.extend(
            _check_coverage(
                coverage.covered,
                substituted.values.get("accounts") or [],
                shards_config.stacks,
                shared,
            )
        )
        problems.extend(_check_organization_resources(coverage.shards, configs))
    if problems:
        raise ConfigError(problems)
    paths = {
        name: "shard" if name == stack else f"{prefix}shard"
        for name, (_, prefix) in configs.items()
    }
    return Stacks(
        organization=organization,
        shared_file=shared,
        shards=coverage.shards,
        max_accounts_per_stack=shards_config.max_accounts_per_stack,
        warnings=_size_warnings(
            coverage.shards, shards_config.max_accounts_per_stack, paths
        ),
    )


def _whole_organization(
    values: Mapping[str, Any],
    secret_keys: frozenset[str],
    project_dir: Path,
    stack: str,
    secret_paths: frozenset[str] | None = None,
) -> Stacks:
    """Load a stack that is the whole organization, as a stack without shards."""
    problems = [
        Problem(
            f"{NAMESPACE}:{key}",
            "key is used only with org-governance:shared",
            show(values[key]),
            "a stack file that includes a shared file",
            f"remove {key}, or move the organization's definitions to a shared "
            "file and add org-governance:shared",
        )
        for key in ("shard", "secrets")
        if key in values
    ]
    shards_config = parse(ShardsConfig, values.get(SHARDS_KEY), SHARDS_KEY, problems)
    shards_config = shards_config or ShardsConfig()
    if shards_config.stacks:
        problems.append(
            Problem(
                f"{SHARDS_KEY}.stacks",
                "stacks are listed in a stack without a shared file",
                show(shards_config.stacks),
                "shards.stacks in a shared file; in a stack file, only "
                "maxAccountsPerStack",
                "remove stacks, or move the organization's definitions to a "
                "shared file",
            )
        )
    try:
        organization = config.load(values, secret_keys, project_dir, secret_paths)
    except ConfigError as error:
        raise ConfigError([*problems, *error.problems]) from None
    if problems:
        raise ConfigError(problems)
    shard = Shard(
        stack=stack,
        accounts=frozenset(organization.account_by_name),
        organization_resources=True,
    )
    maximum = shards_config.max_accounts_per_stack
    return Stacks(
        organization=organization,
        shared_file=None,
        shards=(shard,),
        max_accounts_per_stack=maximum,
        warnings=_size_warnings((shard,), maximum, {stack: "accounts"}),
    )


def _definitions_in_stack(values: Mapping[str, Any], shared: str) -> list[Problem]:
    """Report the organization's definitions written in a sharded stack's file."""
    return [
        Problem(
            f"{NAMESPACE}:{key}",
            f"key belongs in the shared file {shared}",
            show(values[key]),
            "shared, shard and secrets in a stack file that includes a shared file",
            f"move it to {shared}, which every stack of the organization reads",
        )
        for key in (*shared_file.DEFINITION_KEYS, SHARDS_KEY)
        if key in values
    ]


def _shards_config(
    document: Mapping[str, Any], shared: str, problems: list[Problem]
) -> ShardsConfig | None:
    if SHARDS_KEY not in document:
        problems.append(
            Problem(
                f"{shared}: {SHARDS_KEY}",
                "missing key",
                "nothing",
                "shards.stacks: the name of every stack that includes this file",
                f"add `{SHARDS_KEY}: {{stacks: [STACK, ...]}}` to {shared}",
            )
        )
        return None
    return parse(
        ShardsConfig, document[SHARDS_KEY], f"{shared}: {SHARDS_KEY}", problems
    )


def _load_organization(
    shared: shared_file.SharedValues,
    project_dir: Path,
    name: str,
    problems: list[Problem],
) -> config.Organization | None:
    """Load the shared definitions; their problems and warnings name the file."""
    values = {
        key: shared.values[key]
        for key in shared_file.DEFINITION_KEYS
        if key in shared.values
    }
    try:
        organization = config.load(values, shared.secret_keys, project_dir)
    except ConfigError as error:
        problems.extend(
            shared_file.in_file(problem, name) for problem in error.problems
        )
        return None
    warnings = (shared_file.in_file(warning, name) for warning in organization.warnings)
    return dataclasses.replace(organization, warnings=tuple(warnings))


def _shard_configs(
    shards_config: ShardsConfig,
    values: Mapping[str, Any],
    project_dir: Path,
    shared: str,
    stack: str | None,
    problems: list[Problem],
) -> dict[str, tuple[ShardConfig, str]]:
    """Read every listed stack's shard: the current one from `values`, others' files.

    Returns each valid shard with the prefix of its config paths.
    """
    if stack is not None and stack not in shards_config.stacks:
        problems.append(
            Problem(
                f"{shared}: {SHARDS_KEY}.stacks",
                f"stack {stack} includes this file but is not listed",
                show(shards_config.stacks),
                "the name of every stack that includes this file",
                f"add {stack} to {SHARDS_KEY}.stacks",
            )
        )
    configs = {}
    for name in shards_config.stacks:
        if name == stack:
            own: Mapping[str, Any] | None = values
            prefix = ""
        else:
            prefix = f"Pulumi.{name}.yaml: "
            own = _other_stack(project_dir, name, shared, problems)
            if own is None:
                continue
        if "shard" not in own:
            problems.append(
                Problem(
                    f"{prefix}{NAMESPACE}:shard",
                    "missing configuration key",
                    "nothing",
                    "the accounts or organizational units the stack covers",
                    "add `org-governance:shard: {organizationalUnits: [UNIT]}` to "
                    "the stack file",
                )
            )
            continue
        parsed = parse(ShardConfig, own["shard"], f"{prefix}shard", problems)
        if parsed is not None:
            configs[name] = (parsed, prefix)
    return configs


def _other_stack(
    project_dir: Path, name: str, shared: str, problems: list[Problem]
) -> Mapping[str, Any] | None:
    """Read another stack's file; it must include the same shared file."""
    file_name = f"Pulumi.{name}.yaml"
    if not (project_dir / file_name).is_file():
        problems.append(
            Problem(
                f"{shared}: {SHARDS_KEY}.stacks",
                f"stack file {file_name} not found",
                show(name),
                "stacks whose files are in the project directory",
                f"commit {file_name} next to Pulumi.yaml, or remove {name} from "
                f"{SHARDS_KEY}.stacks",
            )
        )
        return None
    try:
        other = read_stack(project_dir, name).values
    except ConfigError as error:
        problems.extend(
            dataclasses.replace(problem, path=f"{file_name}: {problem.path}")
            for problem in error.problems
        )
        return None
    if other.get("shared") != shared:
        problems.append(
            Problem(
                f"{file_name}: {NAMESPACE}:shared",
                "stack listed in shards.stacks does not include this shared file",
                show(other.get("shared")),
                show(shared),
                f"set `org-governance:shared: {shared}` in {file_name}, or remove "
                f"{name} from {SHARDS_KEY}.stacks",
            )
        )
        return None
    return other


@dataclass(frozen=True)
class _Coverage:
    shards: tuple[Shard, ...]
    # The stacks covering each account, as (stack, "by name" or "through unit X").
    covered: Mapping[str, list[tuple[str, str]]]
    problems: list[Problem]


def _cover(
    organization: config.Organization,
    configs: Mapping[str, tuple[ShardConfig, str]],
    stacks: Sequence[str],
    shared: str,
) -> _Coverage:
    """Resolve each shard to its accounts, reporting names the organization lacks."""
    problems: list[Problem] = []
    members = _unit_members(organization)
    account_names = sorted(organization.account_by_name)
    unit_names = sorted(organization.units)
    covered: dict[str, list[tuple[str, str]]] = {}
    shards = []
    for name in stacks:
        if name not in configs:
            continue
        shard_config, prefix = configs[name]
        known_before = len(problems)
        accounts: set[str] = set()
        for index, account in enumerate(shard_config.accounts):
            if account not in organization.account_by_name:
                problems.append(
                    Problem(
                        f"{prefix}shard.accounts[{index}]",
                        "unknown account",
                        show(account),
                        f"the name of an account in {shared}",
                        suggest(account, account_names, "use the name of an account"),
                    )
                )
            elif account not in accounts:
                accounts.add(account)
                covered.setdefault(account, []).append((name, "by name"))
        for index, unit in enumerate(shard_config.organizational_units):
            if unit not in organization.units:
                problems.append(
                    Problem(
                        f"{prefix}shard.organizationalUnits[{index}]",
                        "unknown organizational unit",
                        show(unit),
                        "the name of a unit in organization.organizationalUnits of "
                        f"{shared}: " + ", ".join(unit_names),
                        suggest(unit, unit_names, "use one of the units listed"),
                    )
                )
                continue
            for account in members[unit]:
                if account not in accounts:
                    accounts.add(account)
                    covered.setdefault(account, []).append(
                        (name, f"through unit {unit}")
                    )
        unknown_names = len(problems) > known_before
        if not (accounts or unknown_names or shard_config.organization_resources):
            problems.append(
                Problem(
                    f"{prefix}shard",
                    "stack covers no account",
                    show(shard_config.model_dump(by_alias=True)),
                    "accounts or organizational units that hold accounts, or "
                    "organizationResources: true",
                    "name the accounts this stack creates resources for",
                )
            )
        shards.append(
            Shard(name, frozenset(accounts), shard_config.organization_resources)
        )
    return _Coverage(tuple(shards), covered, problems)


def _unit_members(organization: config.Organization) -> dict[str, list[str]]:
    """Map each unit to the accounts in it or below it, in one pass over accounts."""
    members: dict[str, list[str]] = {unit: [] for unit in organization.units}
    for account in organization.accounts:
        unit: str | None = account.organizational_unit
        while unit is not None:
            members[unit].append(account.name)
            unit = organization.units[unit].parent
    return members


def _check_coverage(
    covered: Mapping[str, list[tuple[str, str]]],
    raw_accounts: Sequence[Any],
    stacks: Sequence[str],
    shared: str,
) -> list[Problem]:
    """Report each account that no stack covers, or more than one."""
    problems = []
    for index, entry in enumerate(raw_accounts):
        name = entry["name"]
        path = f"{shared}: accounts[{index}]"
        covering = covered.get(name, [])
        if not covering:
            problems.append(
                Problem(
                    path,
                    "account is covered by no stack",
                    show(name),
                    "exactly one stack of shards.stacks: " + ", ".join(stacks),
                    f"add {name}, or its organizational unit "
                    f"{entry['organizationalUnit']}, to the shard of one stack",
                )
            )
        elif len(covering) > 1:
            problems.append(
                Problem(
                    path,
                    f"account is covered by {len(covering)} stacks: "
                    + ", ".join(stack for stack, _ in covering),
                    show(name),
                    "exactly one stack of shards.stacks",
                    "keep it in one shard only; now "
                    + "; ".join(f"{stack} covers it {how}" for stack, how in covering),
                )
            )
    return problems


def _check_organization_resources(
    shards: Sequence[Shard], configs: Mapping[str, tuple[ShardConfig, str]]
) -> list[Problem]:
    """Report unless exactly one stack creates the organization-level resources."""
    owners = [shard.stack for shard in shards if shard.organization_resources]
    if len(owners) == 1:
        return []
    if not owners:
        return [
            Problem(
                f"{SHARDS_KEY}.stacks",
                "no stack creates the organization-level resources",
                show([shard.stack for shard in shards]),
                "exactly one stack whose shard sets organizationResources: true",
                "set organizationResources: true in the shard of one stack; it "
                "creates the management account's provider and the cost anomaly "
                "monitor",
            )
        ]
    return [
        Problem(
            f"{configs[stack][1]}shard.organizationResources",
            f"organization-level resources are created by {len(owners)} stacks: "
            + ", ".join(owners),
            "true",
            "organizationResources: true in one stack only",
            "remove it from all stacks but one; otherwise each of them creates a "
            "cost anomaly monitor over the same accounts",
        )
        for stack in owners
    ]


def _size_warnings(
    shards: Sequence[Shard], maximum: int, paths: Mapping[str, str]
) -> dict[str, tuple[Problem, ...]]:
    """Warn about each stack over the maximum number of accounts.

    `paths` gives the config path each stack's warning names.
    """
    low, high = PROVIDER_MB_ESTIMATE
    warnings = {}
    for shard in shards:
        count = len(shard.accounts)
        if count <= maximum:
            continue
        providers = count + (1 if shard.organization_resources else 0)
        warnings[shard.stack] = (
            Problem(
                paths[shard.stack],
                f"stack {shard.stack} covers {count} accounts, more than "
                f"maxAccountsPerStack ({maximum})",
                str(count),
                f"at most {maximum} accounts per stack",
                "split the accounts over more stacks: under `pulumi up` each "
                "account's provider runs as its own process, an estimated "
                f"{low}-{high} MB each, so {providers} providers need an estimated "
                f"{providers * low / 1000:.1f}-{providers * high / 1000:.1f} GB",
            ),
        )
    return warnings
