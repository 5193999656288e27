"""Shared Lambda layers: configuration, validation and plan.

Each entry of `org-governance:layers` is published once, in its owner account, and
shared with the accounts the configuration names through one layer version
permission per principal.

Versioning: a layer's semantic version `MAJOR.MINOR.PATCH` maps to the Lambda layer
name `<name>-v<MAJOR>`, and the full version leads the description
(`1.4.0: ...`). Consumers pin a major line by its layer name and a version number
inside it. A new major version starts a new Lambda layer, whose version numbers
start again at 1. Every change of content, description, runtimes or licence
publishes a new layer version; the old one stays published (`skip_destroy`), with
its permissions, because functions pinned to it keep using it.

Sharing: `organization: true` grants `*` limited to the organization id; unit
names expand to the accounts of this stack in those units and every unit below;
account names grant those accounts. A layer version permission cannot name an
organizational unit, only an account id or `*` with an organization id, hence the
expansion. The owner account is never granted to itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, model_validator

from governance import aws_formats, layer_archive, layer_lock
from governance.fields import AccountName, Model, Text, UnitName, invalid, suggest
from governance.layer_archive import ContentError, LayerArchive
from governance.layer_lock import SEMANTIC_VERSION
from governance.problems import ConfigError, Problem, show

if TYPE_CHECKING:
    from governance.config import Organization, OrganizationConfig

# Layer name in this configuration: letters, digits, hyphens and underscores,
# starting with a letter, at most 64 characters, so that `<name>-v<MAJOR>` stays
# within Lambda's 140 characters. Example: "org-monitoring".
LAYER_CONFIG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}\Z")


def layer_name(name: str, version: str) -> str:
    """Return the Lambda layer name of a version: `<name>-v<MAJOR>`."""
    return f"{name}-v{version.split('.')[0]}"


def layer_description(version: str, description: str) -> str:
    """Return the layer version description: the full version, then the text."""
    return f"{version}: {description}" if description else version


def _check_version(value: Any) -> str:
    allowed = (
        "MAJOR.MINOR.PATCH: three whole numbers without leading zeros, "
        'for example "1.4.0"'
    )
    if isinstance(value, bool):
        raise invalid("version is a boolean", allowed, 'write it quoted, like "1.0.0"')
    if isinstance(value, int | float):
        parts = str(value).split(".")
        hint = ".".join([*parts, "0", "0"][:3])
        raise invalid(
            "version is a YAML number",
            allowed,
            f'quote it and give all three numbers, for example "{hint}"',
        )
    if not isinstance(value, str):
        raise invalid("version is not a string", allowed, 'write it like "1.0.0"')
    if SEMANTIC_VERSION.match(value):
        return value
    if re.match(r"^[0-9]+\.[0-9]+\.[0-9]+[-+]", value):
        raise invalid(
            "pre-release and build suffixes are not supported",
            allowed,
            f'use "{re.split(r"[-+]", value)[0]}" or the next release number',
        )
    raise invalid("invalid semantic version", allowed, 'write it like "1.0.0"')


def _check_layer_name(value: Any) -> str:
    allowed = (
        "1-64 letters, digits, hyphens and underscores, starting with a letter "
        "(the Lambda layer name adds -v<MAJOR>)"
    )
    if not isinstance(value, str):
        raise invalid("layer name is not a string", allowed, "quote the name")
    if not LAYER_CONFIG_NAME.match(value):
        raise invalid(
            "invalid layer name", allowed, "rename it, for example org-monitoring"
        )
    return value


def _choice_check(what: str, known: Sequence[str], fallback: str) -> Any:
    def check(value: Any) -> str:
        allowed = f"one of {', '.join(known)}"
        if not isinstance(value, str):
            raise invalid(f"{what} is not a string", allowed, "quote the value")
        if value not in known:
            raise invalid(
                f"unknown {what}", allowed, suggest(value, list(known), fallback)
            )
        return value

    return check


def _check_project_path(value: Any) -> str:
    allowed = "a path relative to the project directory, inside it, with / separators"
    if not isinstance(value, str):
        raise invalid("path is not a string", allowed, "quote the path")
    if not value:
        raise invalid("path is empty", allowed, "write the path")
    windows = PureWindowsPath(value)
    if value.startswith(("/", "~")) or windows.drive or "\\" in value:
        raise invalid(
            "path is not relative to the project directory",
            allowed,
            "write it from the project directory, for example layers/monitoring",
        )
    if ".." in PurePosixPath(value).parts:
        raise invalid(
            "path leaves the project directory",
            allowed,
            "move the content into the project",
        )
    return value


def _check_zip_path(value: Any) -> str:
    path = _check_project_path(value)
    if not path.endswith(".zip"):
        # Pulumi reads a path as a zip archive only when it ends in ".zip".
        raise invalid(
            "zip file name does not end in .zip",
            "a path to a .zip file inside the project",
            "rename the file to end in .zip",
        )
    return path


def _unique_sorted(maximum: int) -> Any:
    def check(values: list[str]) -> list[str]:
        if not values:
            raise invalid("list is empty", "at least one entry", "add an entry")
        unique = sorted(set(values))
        if len(unique) > maximum:
            raise invalid(
                f"too many entries: {len(unique)}",
                f"at most {maximum} entries",
                "remove entries",
            )
        return unique

    return check


def _check_license(value: Any) -> str:
    limit = aws_formats.LAYER_LICENSE_INFO_MAX_LENGTH
    allowed = f"at most {limit} characters, for example an SPDX identifier like MIT"
    if not isinstance(value, str):
        raise invalid("licence is not a string", allowed, "quote the value")
    if len(value) > limit:
        raise invalid(
            f"licence has {len(value)} characters", allowed, "link to the licence"
        )
    return value


SemanticVersion = Annotated[str, BeforeValidator(_check_version)]
LayerConfigName = Annotated[str, BeforeValidator(_check_layer_name)]
Runtime = Annotated[
    str,
    BeforeValidator(
        _choice_check(
            "Lambda runtime",
            aws_formats.LAMBDA_RUNTIMES,
            "use a runtime identifier from the Lambda runtimes documentation",
        )
    ),
]
Architecture = Annotated[
    str,
    BeforeValidator(
        _choice_check(
            "Lambda architecture",
            aws_formats.LAMBDA_ARCHITECTURES,
            "use x86_64 or arm64",
        )
    ),
]
ProjectPath = Annotated[str, BeforeValidator(_check_project_path)]
ZipPath = Annotated[str, BeforeValidator(_check_zip_path)]
LicenseInfo = Annotated[str, BeforeValidator(_check_license)]


class LayerContentConfig(Model):
    """Source of a layer's files: a project directory or a prebuilt zip."""

    directory: ProjectPath | None = None
    zip_file: ZipPath | None = None

    @model_validator(mode="after")
    def _one_source(self) -> LayerContentConfig:
        if (self.directory is None) == (self.zip_file is None):
            raise invalid(
                "content needs exactly one of directory and zipFile",
                "directory: a project directory the program zips, or zipFile: a "
                "prebuilt zip in the project",
                "keep one of the two keys",
            )
        return self


class SharedWithConfig(Model):
    """Consumers of a layer besides its owner account."""

    organization: StrictBool = False
    organizational_units: list[UnitName] = Field(default_factory=list)
    accounts: list[AccountName] = Field(default_factory=list)


class LayerConfig(Model):
    """One shared layer: its version, content, runtimes, owner and consumers."""

    name: LayerConfigName
    version: SemanticVersion
    content: LayerContentConfig
    compatible_runtimes: Annotated[
        list[Runtime],
        AfterValidator(_unique_sorted(aws_formats.LAYER_MAX_COMPATIBLE_RUNTIMES)),
    ]
    compatible_architectures: Annotated[
        list[Architecture],
        AfterValidator(_unique_sorted(len(aws_formats.LAMBDA_ARCHITECTURES))),
    ]
    description: Text = ""
    license_info: LicenseInfo | None = None
    owner: AccountName
    shared_with: SharedWithConfig = Field(default_factory=SharedWithConfig)


@dataclass(frozen=True)
class Layer:
    """A validated layer with its archive built and its consumers resolved.

    `shared_with_accounts` contains the names of the accounts granted one by one,
    sorted, from the accounts and units named, without the owner.
    """

    name: str
    version: str
    layer_name: str
    description: str
    license_info: str | None
    compatible_runtimes: tuple[str, ...]
    compatible_architectures: tuple[str, ...]
    owner: str
    shared_with_organization: bool
    shared_with_accounts: tuple[str, ...]
    archive: LayerArchive


@dataclass(frozen=True)
class LayerCheck:
    """Result of checking the layer entries, before the organization is built."""

    problems: list[Problem]
    warnings: list[Problem]
    archives: dict[int, LayerArchive]


def check_layers(
    entries: Sequence[LayerConfig | None],
    organization: OrganizationConfig | None,
    account_names: list[str] | None,
    project_dir: Path,
) -> LayerCheck:
    """Check references, descriptions and content of the parsed layer entries.

    Builds each layer's archive (in memory) and compares it with the lock file.
    Entries that failed to parse are skipped, and so are references to accounts
    or units when `account_names` or `organization` is None.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    archives: dict[int, LayerArchive] = {}
    unit_names = (
        sorted(unit.name for unit in organization.organizational_units)
        if organization is not None
        else None
    )
    lock, lock_problems = layer_lock.read(project_dir) if entries else ({}, [])
    problems.extend(lock_problems)
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry is None:
            continue
        path = f"layers[{index}]"
        folded = entry.name.casefold()
        if folded in seen:
            problems.append(
                Problem(
                    f"{path}.name",
                    "duplicate layer name (names are compared ignoring case)",
                    show(entry.name),
                    "a name used by one layer only",
                    f"rename it; layers[{seen[folded]}] already uses it",
                )
            )
        seen.setdefault(folded, index)
        problems.extend(_check_description(path, entry))
        if account_names is not None:
            problems.extend(_check_accounts(path, entry, account_names))
        if unit_names is not None:
            problems.extend(_check_units(path, entry, unit_names))
        if entry.shared_with.organization and (
            entry.shared_with.accounts or entry.shared_with.organizational_units
        ):
            problems.append(
                Problem(
                    f"{path}.sharedWith",
                    "organization: true already shares the layer with every "
                    "account of the organization",
                    show(entry.shared_with.model_dump(by_alias=True)),
                    "organization: true alone, or accounts and organizationalUnits",
                    "remove accounts and organizationalUnits, or the organization key",
                )
            )
        archive = _archive(path, entry, project_dir, problems)
        if archive is not None:
            archives[index] = archive
            problems.extend(_check_build_path(archive, project_dir))
            if not lock_problems:
                warnings.extend(
                    layer_lock.check(index, entry.name, entry.version, archive, lock)
                )
    return LayerCheck(problems=problems, warnings=warnings, archives=archives)


def _check_description(path: str, entry: LayerConfig) -> list[Problem]:
    full = layer_description(entry.version, entry.description)
    limit = aws_formats.LAYER_DESCRIPTION_MAX_LENGTH
    if len(full) <= limit:
        return []
    room = limit - len(layer_description(entry.version, "x")) + 1
    return [
        Problem(
            f"{path}.description",
            f"description too long: with the version in front it has {len(full)} "
            f"characters, Lambda accepts {limit}",
            show(entry.description),
            f"at most {room} characters for version {entry.version}",
            "shorten the description",
        )
    ]


def _check_accounts(
    path: str, entry: LayerConfig, account_names: list[str]
) -> list[Problem]:
    problems = []
    allowed = "the name of an account in accounts: " + ", ".join(account_names)
    if entry.owner not in account_names:
        problems.append(
            Problem(
                f"{path}.owner",
                "unknown owner account",
                show(entry.owner),
                allowed,
                suggest(
                    entry.owner,
                    account_names,
                    "use one of the accounts listed; the management account "
                    "cannot own layers",
                ),
            )
        )
    for position, name in enumerate(entry.shared_with.accounts):
        if name not in account_names:
            problems.append(
                Problem(
                    f"{path}.sharedWith.accounts[{position}]",
                    "unknown account",
                    show(name),
                    allowed,
                    suggest(name, account_names, "use one of the accounts listed"),
                )
            )
    return problems


def _check_units(path: str, entry: LayerConfig, unit_names: list[str]) -> list[Problem]:
    problems = []
    for position, name in enumerate(entry.shared_with.organizational_units):
        if name not in unit_names:
            problems.append(
                Problem(
                    f"{path}.sharedWith.organizationalUnits[{position}]",
                    "unknown organizational unit",
                    show(name),
                    "the name of a unit in organization.organizationalUnits: "
                    + ", ".join(unit_names),
                    suggest(name, unit_names, "use one of the units listed"),
                )
            )
    return problems


def _archive(
    path: str, entry: LayerConfig, project_dir: Path, problems: list[Problem]
) -> LayerArchive | None:
    content = entry.content
    try:
        if content.directory is not None:
            return layer_archive.from_directory(
                entry.name, entry.version, project_dir, content.directory
            )
        assert content.zip_file is not None
        return layer_archive.from_zip_file(entry.name, project_dir, content.zip_file)
    except ContentError as error:
        key = "directory" if content.directory is not None else "zipFile"
        problems.append(
            Problem(
                f"{path}.content.{key}",
                error.message,
                error.found,
                error.allowed,
                error.fix,
            )
        )
        return None


def _check_build_path(archive: LayerArchive, project_dir: Path) -> list[Problem]:
    if archive.data is None:
        return []
    try:
        layer_archive.check_build_path(archive, project_dir)
    except ContentError as error:
        return [_build_path_problem(archive, error)]
    return []


def _build_path_problem(archive: LayerArchive, error: ContentError) -> Problem:
    # The build path is not a configuration value, so the problem is reported
    # under the zip's path, as lock file problems are under the lock file's name.
    return Problem(archive.path, error.message, error.found, error.allowed, error.fix)


def write_archives(layers: Iterable[Layer], project_dir: Path) -> None:
    """Write the zip built for each layer at its path in the project.

    Raises ConfigError, with one problem per zip, when a zip's path is unsafe to
    write (see `layer_archive.check_build_path`). No zip is written then.
    """
    archives = [layer.archive for layer in layers]
    problems = [
        problem
        for archive in archives
        for problem in _check_build_path(archive, project_dir)
    ]
    if problems:
        raise ConfigError(problems)
    for archive in archives:
        try:
            layer_archive.write_archive(archive, project_dir)
        except ContentError as error:
            raise ConfigError([_build_path_problem(archive, error)]) from None


def build_layers(
    entries: Sequence[LayerConfig],
    archives: Mapping[int, LayerArchive],
    organization: Organization,
) -> tuple[tuple[Layer, ...], list[Problem]]:
    """Resolve the consumers of each valid layer entry.

    Returns the layers sorted by name and a warning for each unit named that contains
    no account of this stack other than the owner, since nothing is granted there.
    """
    layers = []
    warnings = []
    for index, entry in enumerate(entries):
        granted: set[str] = set(entry.shared_with.accounts)
        for position, unit in enumerate(entry.shared_with.organizational_units):
            # NOTE: only the accounts listed in this stack are known here; an account
            # of the unit that no stack entry lists gets no permission.
            members = {
                account.name
                for account in organization.accounts_in_unit(unit)
                if account.name != entry.owner
            }
            if not members:
                warnings.append(
                    Problem(
                        f"layers[{index}].sharedWith.organizationalUnits[{position}]",
                        "no account of this stack is in the unit or below it, so "
                        "the layer is shared with nobody there",
                        show(unit),
                        "a unit that holds accounts listed in accounts",
                        "add the unit's accounts to this stack, or remove the unit",
                    )
                )
            granted |= members
        granted.discard(entry.owner)
        layers.append(
            Layer(
                name=entry.name,
                version=entry.version,
                layer_name=layer_name(entry.name, entry.version),
                description=layer_description(entry.version, entry.description),
                license_info=entry.license_info,
                compatible_runtimes=tuple(entry.compatible_runtimes),
                compatible_architectures=tuple(entry.compatible_architectures),
                owner=entry.owner,
                shared_with_organization=entry.shared_with.organization,
                shared_with_accounts=tuple(sorted(granted)),
                archive=archives[index],
            )
        )
    return tuple(sorted(layers, key=lambda layer: layer.name)), warnings


@dataclass(frozen=True)
class LayerPermissionPlan:
    """One `lambda:GetLayerVersion` grant on a layer version.

    `principal` is a 12-digit account id, or `*` with `organization_id` set.
    `grantee` names the account, or is the organization id, for people reading
    the plan. `statement_id` is unique within the version's policy.
    """

    statement_id: str
    principal: str
    organization_id: str | None
    grantee: str
    action: str = aws_formats.LAYER_PERMISSION_ACTION


@dataclass(frozen=True)
class LayerPlan:
    """One layer version to publish in its owner account, and its permissions."""

    name: str
    semantic_version: str
    layer_name: str
    description: str
    license_info: str | None
    compatible_runtimes: tuple[str, ...]
    compatible_architectures: tuple[str, ...]
    archive_path: str
    source_code_hash: str
    account_id: str
    region: str
    permissions: tuple[LayerPermissionPlan, ...]


def plan_layer(layer: Layer, organization: Organization) -> LayerPlan:
    """Plan a layer version and one permission per principal, sorted by statement id."""
    owner = organization.account_by_name[layer.owner]
    permissions = [
        LayerPermissionPlan(
            statement_id=f"account-{account.id}",
            principal=account.id,
            organization_id=None,
            grantee=account.name,
        )
        for account in (
            organization.account_by_name[name] for name in layer.shared_with_accounts
        )
    ]
    if layer.shared_with_organization:
        permissions.append(
            LayerPermissionPlan(
                statement_id=f"organization-{organization.id}",
                principal="*",
                organization_id=organization.id,
                grantee=organization.id,
            )
        )
    return LayerPlan(
        name=layer.name,
        semantic_version=layer.version,
        layer_name=layer.layer_name,
        description=layer.description,
        license_info=layer.license_info,
        compatible_runtimes=layer.compatible_runtimes,
        compatible_architectures=layer.compatible_architectures,
        archive_path=layer.archive.path,
        source_code_hash=layer.archive.code_sha256,
        account_id=owner.id,
        region=owner.region,
        permissions=tuple(sorted(permissions, key=lambda item: item.statement_id)),
    )


def plan_layers(organization: Organization) -> dict[str, tuple[LayerPlan, ...]]:
    """Plan every layer, grouped by the name of its owner account."""
    grouped: dict[str, list[LayerPlan]] = {}
    for layer in organization.layers:
        grouped.setdefault(layer.owner, []).append(plan_layer(layer, organization))
    return {owner: tuple(plans) for owner, plans in sorted(grouped.items())}
