"""Shared layers: each invalid input with its exact problem, consumers and the plan."""

from __future__ import annotations

import copy
from typing import Any

import botocore.session
import pytest

from governance import aws_formats, config
from governance.layers import LayerPermissionPlan, plan_layers
from governance.problems import ConfigError, Problem
from tests.changes import (
    Change,
    case_params,
    problems_after,
)
from tests.conftest import PROD_SECRET_KEYS

VERSION_ALLOWED = (
    'MAJOR.MINOR.PATCH: three whole numbers without leading zeros, for example "1.4.0"'
)
RUNTIMES_ALLOWED = "one of " + ", ".join(aws_formats.LAMBDA_RUNTIMES)
ACCOUNTS_ALLOWED = (
    "the name of an account in accounts: log-archive, network, orders-prod, "
    "orders-staging, payments-dev, payments-prod, payments-staging, sandbox, "
    "security-audit, shared-services"
)
UNITS_ALLOWED = (
    "the name of a unit in organization.organizationalUnits: infrastructure, "
    "sandbox, security, workloads, workloads-dev, workloads-prod, workloads-staging"
)
CONTENT_ALLOWED = (
    "directory: a project directory the program zips, or zipFile: a prebuilt zip "
    "in the project"
)
LAYER_FILES_ALLOWED = (
    "a directory inside the project that contains only the layer's files"
)
PATH_ALLOWED = "a path relative to the project directory, inside it, with / separators"


def layer(index: int, **changes: Any) -> Change:
    """Return a change that sets keys of one entry of `layers`."""

    def change(values: dict[str, Any]) -> None:
        values["layers"][index].update(changes)

    return change


INVALID_CASES: list[tuple[str, list[Change], list[Problem]]] = [
    (
        "version with two numbers",
        [layer(0, version="1.2")],
        [
            Problem(
                "layers[0].version",
                "invalid semantic version",
                '"1.2"',
                VERSION_ALLOWED,
                'write it like "1.0.0"',
            )
        ],
    ),
    (
        "version as YAML number",
        [layer(0, version=1.2)],
        [
            Problem(
                "layers[0].version",
                "version is a YAML number",
                "1.2",
                VERSION_ALLOWED,
                'quote it and give all three numbers, for example "1.2.0"',
            )
        ],
    ),
    (
        "version with leading zero",
        [layer(0, version="1.02.0")],
        [
            Problem(
                "layers[0].version",
                "invalid semantic version",
                '"1.02.0"',
                VERSION_ALLOWED,
                'write it like "1.0.0"',
            )
        ],
    ),
    (
        "version with pre-release",
        [layer(0, version="1.2.0-beta.1")],
        [
            Problem(
                "layers[0].version",
                "pre-release and build suffixes are not supported",
                '"1.2.0-beta.1"',
                VERSION_ALLOWED,
                'use "1.2.0" or the next release number',
            )
        ],
    ),
    (
        "unknown runtime",
        [layer(0, compatibleRuntimes=["python3.13", "pyhton3.12"])],
        [
            Problem(
                "layers[0].compatibleRuntimes[1]",
                "unknown Lambda runtime",
                '"pyhton3.12"',
                RUNTIMES_ALLOWED,
                "did you mean python3.12 or python3.14 or python3.13?",
            )
        ],
    ),
    (
        "deprecated runtime",
        [layer(1, compatibleRuntimes=["nodejs18.x"])],
        [
            Problem(
                "layers[1].compatibleRuntimes[0]",
                "unknown Lambda runtime",
                '"nodejs18.x"',
                RUNTIMES_ALLOWED,
                "did you mean nodejs24.x or nodejs22.x or nodejs20.x?",
            )
        ],
    ),
    (
        "no runtime",
        [layer(0, compatibleRuntimes=[])],
        [
            Problem(
                "layers[0].compatibleRuntimes",
                "list is empty",
                "[]",
                "at least one entry",
                "add an entry",
            )
        ],
    ),
    (
        "more than 15 runtimes",
        [layer(0, compatibleRuntimes=list(aws_formats.LAMBDA_RUNTIMES[:16]))],
        [
            Problem(
                "layers[0].compatibleRuntimes",
                "too many entries: 16",
                '["dotnet10", "dotnet8", "java11", "java17", "java21", "java25", '
                '"java8.al2", "nodejs20.x", "nodejs22.x", "nodejs24.x"...',
                "at most 15 entries",
                "remove entries",
            )
        ],
    ),
    (
        "unknown architecture",
        [layer(0, compatibleArchitectures=["amd64"])],
        [
            Problem(
                "layers[0].compatibleArchitectures[0]",
                "unknown Lambda architecture",
                '"amd64"',
                "one of arm64, x86_64",
                "did you mean arm64?",
            )
        ],
    ),
    (
        "unknown owner",
        [layer(0, owner="shared-service")],
        [
            Problem(
                "layers[0].owner",
                "unknown owner account",
                '"shared-service"',
                ACCOUNTS_ALLOWED,
                "did you mean shared-services?",
            )
        ],
    ),
    (
        "management account as owner",
        [layer(0, owner="management")],
        [
            Problem(
                "layers[0].owner",
                "unknown owner account",
                '"management"',
                ACCOUNTS_ALLOWED,
                "use one of the accounts listed; the management account cannot own "
                "layers",
            )
        ],
    ),
    (
        "unknown sharing account",
        [layer(1, sharedWith={"accounts": ["payments-prd"]})],
        [
            Problem(
                "layers[1].sharedWith.accounts[0]",
                "unknown account",
                '"payments-prd"',
                ACCOUNTS_ALLOWED,
                "did you mean payments-prod or payments-dev or payments-staging?",
            )
        ],
    ),
    (
        "unknown sharing unit",
        [layer(1, sharedWith={"organizationalUnits": ["workload-prod"]})],
        [
            Problem(
                "layers[1].sharedWith.organizationalUnits[0]",
                "unknown organizational unit",
                '"workload-prod"',
                UNITS_ALLOWED,
                "did you mean workloads-prod or workloads-dev or workloads?",
            )
        ],
    ),
    (
        "organization with accounts",
        [layer(0, sharedWith={"organization": True, "accounts": ["sandbox"]})],
        [
            Problem(
                "layers[0].sharedWith",
                "organization: true already shares the layer with every account of "
                "the organization",
                '{"accounts": ["sandbox"], "organization": true, '
                '"organizationalUnits": []}',
                "organization: true alone, or accounts and organizationalUnits",
                "remove accounts and organizationalUnits, or the organization key",
            )
        ],
    ),
    (
        "organization as string",
        [layer(0, sharedWith={"organization": "yes"})],
        [
            Problem(
                "layers[0].sharedWith.organization",
                "Input should be a valid boolean",
                '"yes"',
                "true or false",
                "correct the value",
            )
        ],
    ),
    (
        "duplicate layer name ignoring case",
        [layer(1, name="Org-Monitoring")],
        [
            Problem(
                "layers[1].name",
                "duplicate layer name (names are compared ignoring case)",
                '"Org-Monitoring"',
                "a name used by one layer only",
                "rename it; layers[0] already uses it",
            )
        ],
    ),
    (
        "layer name with space",
        [layer(0, name="org monitoring")],
        [
            Problem(
                "layers[0].name",
                "invalid layer name",
                '"org monitoring"',
                "1-64 letters, digits, hyphens and underscores, starting with a letter "
                "(the Lambda layer name adds -v<MAJOR>)",
                "rename it, for example org-monitoring",
            )
        ],
    ),
    (
        "directory and zip file",
        [layer(0, content={"directory": "layers/monitoring", "zipFile": "a.zip"})],
        [
            Problem(
                "layers[0].content",
                "content needs exactly one of directory and zipFile",
                '{"directory": "layers/monitoring", "zipFile": "a.zip"}',
                CONTENT_ALLOWED,
                "keep one of the two keys",
            )
        ],
    ),
    (
        "absolute directory",
        [layer(0, content={"directory": "/etc"})],
        [
            Problem(
                "layers[0].content.directory",
                "path is not relative to the project directory",
                '"/etc"',
                PATH_ALLOWED,
                "write it from the project directory, for example layers/monitoring",
            )
        ],
    ),
    (
        "directory outside the project",
        [layer(0, content={"directory": "layers/../../shared"})],
        [
            Problem(
                "layers[0].content.directory",
                "path leaves the project directory",
                '"layers/../../shared"',
                PATH_ALLOWED,
                "move the content into the project",
            )
        ],
    ),
    *(
        (
            f"project directory as {value!r}",
            [layer(0, content={"directory": value})],
            [
                Problem(
                    "layers[0].content.directory",
                    "the project directory itself cannot be a layer, because it "
                    "contains .git, the stack files and the rest of the project",
                    f'"{value}"',
                    LAYER_FILES_ALLOWED,
                    "move the layer's files into their own directory, for example "
                    "layers/monitoring",
                )
            ],
        )
        for value in (".", "./", "./.")
    ),
    *(
        (
            f"git directory as {value!r}",
            [layer(0, content={"directory": value})],
            [
                Problem(
                    "layers[0].content.directory",
                    "directory is inside the project's .git directory",
                    f'"{value}"',
                    LAYER_FILES_ALLOWED,
                    "point content.directory at the layer's files",
                )
            ],
        )
        for value in (".git", "./.git/objects", ".GIT")
    ),
    (
        "zip file without .zip",
        [layer(0, content={"zipFile": "dist/layer.tar.gz"})],
        [
            Problem(
                "layers[0].content.zipFile",
                "zip file name does not end in .zip",
                '"dist/layer.tar.gz"',
                "a path to a .zip file inside the project",
                "rename the file to end in .zip",
            )
        ],
    ),
    (
        "missing directory",
        [layer(0, content={"directory": "layers/monitor"})],
        [
            Problem(
                "layers[0].content.directory",
                "directory not found",
                '"layers/monitor"',
                "a directory inside the project, relative to the project directory",
                "create the directory or correct the path",
            )
        ],
    ),
    (
        "missing zip file",
        [layer(0, content={"zipFile": "dist/monitoring.zip"})],
        [
            Problem(
                "layers[0].content.zipFile",
                "zip file not found",
                '"dist/monitoring.zip"',
                "a .zip file inside the project, relative to the project directory",
                "build the zip first or correct the path",
            )
        ],
    ),
    (
        "description too long with version",
        [layer(0, description="d" * 250)],
        [
            Problem(
                "layers[0].description",
                "description too long: with the version in front it has 257 "
                "characters, Lambda accepts 256",
                '"' + "d" * 116 + "...",
                "at most 249 characters for version 1.0.0",
                "shorten the description",
            )
        ],
    ),
    (
        "unknown key in layer",
        [layer(0, licence="MIT")],
        [
            Problem(
                "layers[0].licence",
                "unknown key",
                'licence: "MIT"',
                "one of compatibleArchitectures, compatibleRuntimes, content, "
                "description, licenseInfo, name, owner, sharedWith, version",
                "did you mean licenseInfo?",
            )
        ],
    ),
    (
        "several problems at once",
        [
            layer(0, version="2", owner="nobody"),
            layer(1, compatibleArchitectures=["x86"]),
        ],
        [
            Problem(
                "layers[0].version",
                "invalid semantic version",
                '"2"',
                VERSION_ALLOWED,
                'write it like "1.0.0"',
            ),
            Problem(
                "layers[1].compatibleArchitectures[0]",
                "unknown Lambda architecture",
                '"x86"',
                "one of arm64, x86_64",
                "did you mean x86_64?",
            ),
        ],
    ),
]


@pytest.mark.parametrize(("changes", "expected"), case_params(INVALID_CASES))
def test_invalid_layer(
    prod_values: dict[str, Any], changes: list[Change], expected: list[Problem]
) -> None:
    assert problems_after(prod_values, changes) == expected


def test_longest_description_accepted(prod_values: dict[str, Any]) -> None:
    prod_values["layers"][0]["description"] = "d" * 249
    organization = config.load(prod_values, PROD_SECRET_KEYS)
    assert len(organization.layers[0].description) == 256


def test_invalid_account_hides_no_owner(prod_values: dict[str, Any]) -> None:
    # The owner's own entry is invalid: only that entry is reported, not the layer.
    prod_values["accounts"][2]["id"] = "1"
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, PROD_SECRET_KEYS)
    assert [problem.path for problem in raised.value.problems] == ["accounts[2].id"]


def test_no_layers_key(prod_values: dict[str, Any]) -> None:
    del prod_values["layers"]
    assert config.load(prod_values, PROD_SECRET_KEYS).layers == ()


def test_empty_layers_list(prod_values: dict[str, Any]) -> None:
    prod_values["layers"] = []
    assert config.load(prod_values, PROD_SECRET_KEYS).layers == ()


def test_runtimes_known_to_botocore() -> None:
    model = botocore.session.get_session().get_service_model("lambda")
    assert set(aws_formats.LAMBDA_RUNTIMES) <= set(model.shape_for("Runtime").enum)
    assert set(aws_formats.LAMBDA_ARCHITECTURES) == set(
        model.shape_for("Architecture").enum
    )


def test_layer_name_and_description(prod_values: dict[str, Any]) -> None:
    prod_values["layers"][0]["version"] = "2.3.4"
    monitoring = config.load(prod_values, PROD_SECRET_KEYS).layers[0]
    assert monitoring.name == "org-monitoring"
    assert monitoring.layer_name == "org-monitoring-v2"
    assert monitoring.description == (
        "2.3.4: Structured JSON logs and a cost metric per invocation (EMF)"
    )
    assert aws_formats.LAYER_NAME.match(monitoring.layer_name)


def test_runtimes_sorted_and_unique(prod_values: dict[str, Any]) -> None:
    prod_values["layers"][0]["compatibleRuntimes"] = [
        "python3.13",
        "python3.12",
        "python3.13",
    ]
    monitoring = config.load(prod_values, PROD_SECRET_KEYS).layers[0]
    assert monitoring.compatible_runtimes == ("python3.12", "python3.13")


def permissions(values: dict[str, Any], name: str) -> tuple[LayerPermissionPlan, ...]:
    plans = plan_layers(config.load(values, PROD_SECRET_KEYS))
    return next(
        plan.permissions
        for group in plans.values()
        for plan in group
        if plan.name == name
    )


def test_organization_permission(prod_values: dict[str, Any]) -> None:
    assert permissions(prod_values, "org-monitoring") == (
        LayerPermissionPlan(
            statement_id="organization-o-7k2m9x4q1z",
            principal="*",
            organization_id="o-7k2m9x4q1z",
            grantee="o-7k2m9x4q1z",
        ),
    )


def test_unit_expands_to_accounts(prod_values: dict[str, Any]) -> None:
    assert permissions(prod_values, "workload-retry") == (
        LayerPermissionPlan(
            statement_id="account-012345678901",
            principal="012345678901",
            organization_id=None,
            grantee="payments-prod",
        ),
        LayerPermissionPlan(
            statement_id="account-123456789012",
            principal="123456789012",
            organization_id=None,
            grantee="orders-prod",
        ),
    )


def test_unit_includes_units_below(prod_values: dict[str, Any]) -> None:
    prod_values["layers"][1]["sharedWith"] = {"organizationalUnits": ["workloads"]}
    grantees = [item.grantee for item in permissions(prod_values, "workload-retry")]
    assert sorted(grantees) == [
        "orders-prod",
        "orders-staging",
        "payments-dev",
        "payments-prod",
        "payments-staging",
    ]


def test_owner_not_granted_to_itself(prod_values: dict[str, Any]) -> None:
    prod_values["layers"][1]["sharedWith"] = {
        "organizationalUnits": ["infrastructure"],
        "accounts": ["shared-services", "sandbox"],
    }
    grantees = [item.grantee for item in permissions(prod_values, "workload-retry")]
    assert sorted(grantees) == ["network", "sandbox"]


def test_account_in_unit_granted_once(prod_values: dict[str, Any]) -> None:
    prod_values["layers"][1]["sharedWith"] = {
        "organizationalUnits": ["workloads-prod"],
        "accounts": ["payments-prod", "payments-prod"],
    }
    grantees = [item.grantee for item in permissions(prod_values, "workload-retry")]
    assert grantees == ["payments-prod", "orders-prod"]


def test_not_shared_has_no_permission(prod_values: dict[str, Any]) -> None:
    del prod_values["layers"][1]["sharedWith"]
    assert permissions(prod_values, "workload-retry") == ()


def test_unit_without_accounts_warns(prod_values: dict[str, Any]) -> None:
    prod_values["layers"][1]["owner"] = "sandbox"
    prod_values["layers"][1]["sharedWith"] = {"organizationalUnits": ["sandbox"]}
    organization = config.load(prod_values, PROD_SECRET_KEYS)
    assert organization.warnings == (
        Problem(
            "layers[1].sharedWith.organizationalUnits[0]",
            "no account of this stack is in the unit or below it, so the layer is "
            "shared with nobody there",
            '"sandbox"',
            "a unit that holds accounts listed in accounts",
            "add the unit's accounts to this stack, or remove the unit",
        ),
    )


def test_statement_ids_valid_and_unique(prod_values: dict[str, Any]) -> None:
    prod_values["layers"][1]["sharedWith"] = {"organizationalUnits": ["workloads"]}
    for group in plan_layers(config.load(prod_values, PROD_SECRET_KEYS)).values():
        for plan in group:
            ids = [item.statement_id for item in plan.permissions]
            assert len(ids) == len(set(ids))
            for statement_id in ids:
                assert aws_formats.STATEMENT_ID.match(statement_id)


def test_plan_grouped_by_owner(prod_values: dict[str, Any]) -> None:
    plans = plan_layers(config.load(prod_values, PROD_SECRET_KEYS))
    assert list(plans) == ["shared-services"]
    monitoring, retry = plans["shared-services"]
    assert monitoring.account_id == "408765432109"
    assert monitoring.region == "eu-west-1"
    assert monitoring.layer_name == "org-monitoring-v1"
    assert monitoring.archive_path == "build/layers/org-monitoring-1.0.0.zip"
    assert retry.name == "workload-retry"


def test_plan_ignores_entry_order(prod_values: dict[str, Any]) -> None:
    reordered = copy.deepcopy(prod_values)
    reordered["layers"].reverse()
    reordered["accounts"].reverse()
    reordered["layers"][0]["compatibleRuntimes"].reverse()
    assert plan_layers(config.load(reordered, PROD_SECRET_KEYS)) == plan_layers(
        config.load(prod_values, PROD_SECRET_KEYS)
    )
