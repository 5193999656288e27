"""Sharding: the sample split over two stacks, and each invalid split's problems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from governance import shards
from governance.problems import ConfigError, Problem
from governance.stack_config import read_stack
from tests.conftest import PROD_SECRET_KEYS, PROJECT_DIR
from tests.sharded import SHARED, copy_project, edit

CORE = "prod-core"
WORKLOADS = "prod-workloads"
CORE_FILE = f"Pulumi.{CORE}.yaml"
WORKLOADS_FILE = f"Pulumi.{WORKLOADS}.yaml"
CORE_ACCOUNTS = {
    "security-audit",
    "log-archive",
    "shared-services",
    "network",
    "sandbox",
}
WORKLOAD_ACCOUNTS = {
    "payments-prod",
    "orders-prod",
    "payments-staging",
    "orders-staging",
    "payments-dev",
}

Edit = tuple[str, Callable[[dict[str, Any]], None]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's sharded sample that a test may change."""
    return copy_project(tmp_path)


def load(project: Path, stack: str = CORE) -> tuple[Any, shards.Shard]:
    config = read_stack(project, stack)
    return shards.load(config.values, config.secret_keys, project, stack)


def shard_of(file_change: Callable[[dict[str, Any]], None]) -> Callable[[dict], None]:
    """Return an edit of a stack file's `org-governance:shard`."""

    def change(document: dict[str, Any]) -> None:
        file_change(document["config"]["org-governance:shard"])

    return change


def stack_key(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        if value is None:
            del document["config"][f"org-governance:{key}"]
        else:
            document["config"][f"org-governance:{key}"] = value

    return change


def role(index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["executionRoles"][index][key] = value

    return change


def test_sample_shards_cover_organization() -> None:
    core_organization, core = load(PROJECT_DIR, CORE)
    _, workloads = load(PROJECT_DIR, WORKLOADS)
    assert core.accounts == CORE_ACCOUNTS
    assert workloads.accounts == WORKLOAD_ACCOUNTS
    assert core.organization_resources is True
    assert workloads.organization_resources is False
    assert len(core_organization.accounts) == 10
    assert core_organization.warnings == ()


def test_unsharded_stack_is_whole_organization(prod_values) -> None:
    organization, shard = shards.load(
        prod_values, PROD_SECRET_KEYS, PROJECT_DIR, "prod"
    )
    assert shard.accounts == CORE_ACCOUNTS | WORKLOAD_ACCOUNTS
    assert shard.organization_resources is True
    assert organization.warnings == ()


def test_shared_secrets_replace_references(project: Path) -> None:
    organization, _ = load(project, CORE)
    roles = {role.name: role for role in organization.execution_roles}
    assert roles["PartnerAuditRole"].external_id.reveal() == "offline-preview-secret"
    assert roles["CrossAccountLambdaRole"].external_id is not None


def test_describe_lists_every_stack() -> None:
    stacks = shards.describe(PROJECT_DIR, SHARED)
    assert [shard.stack for shard in stacks.shards] == [CORE, WORKLOADS]
    assert stacks.shared_file == SHARED
    assert stacks.max_accounts_per_stack == 25


def drop_sandbox_unit(shard: dict[str, Any]) -> None:
    shard["organizationalUnits"] = ["security", "infrastructure"]


def add_sandbox_by_name(shard: dict[str, Any]) -> None:
    shard["accounts"] = ["sandbox"]


# (name, edits of the copied project, stack loaded, the exact problems)
INVALID_CASES: list[tuple[str, list[Edit], str, list[Problem]]] = [
    (
        "account in two stacks",
        [(WORKLOADS_FILE, shard_of(add_sandbox_by_name))],
        CORE,
        [
            Problem(
                "organization.yaml: accounts[9]",
                "account is covered by 2 stacks: prod-core, prod-workloads",
                '"sandbox"',
                "exactly one stack of shards.stacks",
                "keep it in one shard only; now prod-core covers it through unit "
                "sandbox; prod-workloads covers it by name",
            )
        ],
    ),
    (
        "account in no stack",
        [(CORE_FILE, shard_of(drop_sandbox_unit))],
        WORKLOADS,
        [
            Problem(
                "organization.yaml: accounts[9]",
                "account is covered by no stack",
                '"sandbox"',
                "exactly one stack of shards.stacks: prod-core, prod-workloads",
                "add sandbox, or its organizational unit sandbox, to the shard of "
                "one stack",
            )
        ],
    ),
    (
        "no stack has the organization-level resources",
        [(CORE_FILE, shard_of(lambda shard: shard.pop("organizationResources")))],
        CORE,
        [
            Problem(
                "shards.stacks",
                "no stack creates the organization-level resources",
                '["prod-core", "prod-workloads"]',
                "exactly one stack whose shard sets organizationResources: true",
                "set organizationResources: true in the shard of one stack; it "
                "creates the management account's provider and the cost anomaly "
                "monitor",
            )
        ],
    ),
    (
        "two stacks have the organization-level resources",
        [
            (
                WORKLOADS_FILE,
                shard_of(lambda shard: shard.update(organizationResources=True)),
            )
        ],
        CORE,
        [
            Problem(
                path,
                "organization-level resources are created by 2 stacks: prod-core, "
                "prod-workloads",
                "true",
                "organizationResources: true in one stack only",
                "remove it from all stacks but one; otherwise each of them creates "
                "a cost anomaly monitor over the same accounts",
            )
            for path in (
                "Pulumi.prod-workloads.yaml: shard.organizationResources",
                "shard.organizationResources",
            )
        ],
    ),
    (
        "stack not listed",
        [(SHARED, lambda document: document["shards"].update(stacks=[WORKLOADS]))],
        CORE,
        [
            Problem(
                "organization.yaml: shards.stacks",
                "stack prod-core includes this file but is not listed",
                '["prod-workloads"]',
                "the name of every stack that includes this file",
                "add prod-core to shards.stacks",
            )
        ],
    ),
    (
        "unknown account in shard",
        [(CORE_FILE, shard_of(lambda shard: shard.update(accounts=["sandbx"])))],
        CORE,
        [
            Problem(
                "shard.accounts[0]",
                "unknown account",
                '"sandbx"',
                "the name of an account in organization.yaml",
                "did you mean sandbox?",
            )
        ],
    ),
    (
        "unknown unit in another stack's shard",
        [
            (
                WORKLOADS_FILE,
                shard_of(lambda shard: shard.update(organizationalUnits=["workload"])),
            )
        ],
        CORE,
        [
            Problem(
                "Pulumi.prod-workloads.yaml: shard.organizationalUnits[0]",
                "unknown organizational unit",
                '"workload"',
                "the name of a unit in organization.organizationalUnits of "
                "organization.yaml: infrastructure, sandbox, security, workloads, "
                "workloads-dev, workloads-prod, workloads-staging",
                "did you mean workloads or workloads-dev or workloads-prod?",
            ),
        ],
    ),
    (
        "stack covering no account",
        [
            (
                WORKLOADS_FILE,
                shard_of(lambda shard: shard.update(organizationalUnits=[])),
            )
        ],
        CORE,
        [
            Problem(
                "Pulumi.prod-workloads.yaml: shard",
                "stack covers no account",
                '{"accounts": [], "organizationResources": false, '
                '"organizationalUnits": []}',
                "accounts or organizational units that hold accounts, or "
                "organizationResources: true",
                "name the accounts this stack creates resources for",
            )
        ],
    ),
    (
        "organization definitions in a sharded stack file",
        [(CORE_FILE, stack_key("accounts", []))],
        CORE,
        [
            Problem(
                "org-governance:accounts",
                "key belongs in the shared file organization.yaml",
                "[]",
                "shared, shard and secrets in a stack file that includes a shared file",
                "move it to organization.yaml, which every stack of the "
                "organization reads",
            )
        ],
    ),
    (
        "encrypted value in the shared file",
        [(SHARED, role(0, "externalId", {"secure": "v1:abc"}))],
        CORE,
        [
            Problem(
                "organization.yaml: executionRoles[0].externalId",
                "encrypted value in the shared file",
                "[secret]",
                "a plain value, or {stackSecret: NAME} for a secret",
                "each stack encrypts with its own key, so no stack can decrypt it: "
                "write {stackSecret: NAME} and set NAME in every stack with "
                "`pulumi config set --secret --path 'secrets.NAME' VALUE`",
            )
        ],
    ),
    (
        "stack secret not set",
        [
            (
                CORE_FILE,
                lambda document: document["config"]["org-governance:secrets"].pop(
                    "lambda-role-external-id"
                ),
            )
        ],
        CORE,
        [
            Problem(
                "organization.yaml: executionRoles[0].externalId",
                "stack secret not set in stack prod-core",
                '"lambda-role-external-id"',
                "a key of org-governance:secrets: partner-audit-external-id",
                "run `pulumi config set --stack prod-core --secret --path "
                "'secrets.lambda-role-external-id' VALUE`",
            )
        ],
    ),
    (
        "plain external id in the shared file",
        [(SHARED, role(2, "externalId", "partner-audit-2024"))],
        CORE,
        [
            Problem(
                "organization.yaml: executionRoles[2].externalId",
                "secret stored as plain text in the shared file",
                "[secret]",
                "{stackSecret: NAME}, with NAME set in every stack",
                "write {stackSecret: NAME} here, then in every stack run `pulumi "
                "config set --secret --path 'secrets.NAME' VALUE`",
            )
        ],
    ),
    (
        "stack secrets in plain text",
        [
            (
                CORE_FILE,
                stack_key(
                    "secrets",
                    {
                        "lambda-role-external-id": "abc-123",
                        "partner-audit-external-id": "def-456",
                    },
                ),
            )
        ],
        CORE,
        [
            Problem(
                "org-governance:secrets",
                "secrets are stored as plain text",
                "[secret]",
                "secret values in the stack file (secure: ...)",
                "delete the plain values, then set each with `pulumi config set "
                "--secret --path 'secrets.NAME' VALUE`",
            )
        ],
    ),
    (
        "other stack without shard",
        [(WORKLOADS_FILE, stack_key("shard", None))],
        CORE,
        [
            Problem(
                "Pulumi.prod-workloads.yaml: org-governance:shard",
                "missing configuration key",
                "nothing",
                "the accounts or organizational units the stack covers",
                "add `org-governance:shard: {organizationalUnits: [UNIT]}` to the "
                "stack file",
            )
        ],
    ),
    (
        "other stack includes another shared file",
        [(WORKLOADS_FILE, stack_key("shared", "other.yaml"))],
        CORE,
        [
            Problem(
                "Pulumi.prod-workloads.yaml: org-governance:shared",
                "stack listed in shards.stacks does not include this shared file",
                '"other.yaml"',
                '"organization.yaml"',
                "set `org-governance:shared: organization.yaml` in "
                "Pulumi.prod-workloads.yaml, or remove prod-workloads from "
                "shards.stacks",
            )
        ],
    ),
    (
        "listed stack without a file",
        [
            (
                SHARED,
                lambda document: document["shards"]["stacks"].append("prod-extra"),
            )
        ],
        CORE,
        [
            Problem(
                "organization.yaml: shards.stacks",
                "stack file Pulumi.prod-extra.yaml not found",
                '"prod-extra"',
                "stacks whose files are in the project directory",
                "commit Pulumi.prod-extra.yaml next to Pulumi.yaml, or remove "
                "prod-extra from shards.stacks",
            )
        ],
    ),
    (
        "shared file outside the project",
        [(CORE_FILE, stack_key("shared", "../organization.yaml"))],
        CORE,
        [
            Problem(
                "org-governance:shared",
                "invalid shared file path",
                '"../organization.yaml"',
                "the path of a YAML file inside the project directory, relative to "
                "it, for example organization.yaml",
                "the program reads the file from the project directory, where it is "
                "committed: write its path relative to Pulumi.yaml",
            )
        ],
    ),
    (
        "shared file missing",
        [(CORE_FILE, stack_key("shared", "org.yaml"))],
        CORE,
        [
            Problem(
                "org-governance:shared",
                "shared file not found",
                '"org.yaml"',
                "the path of a YAML file inside the project directory, relative to "
                "it, for example organization.yaml",
                "create org.yaml next to Pulumi.yaml, or correct the path",
            )
        ],
    ),
    (
        "unknown key in the shared file",
        [(SHARED, lambda document: document.update(acounts=[]))],
        CORE,
        [
            Problem(
                "organization.yaml: acounts",
                "unknown key in the shared file",
                "[]",
                "keys of a shared file: organization, accounts, executionRoles, "
                "layers, shards",
                "did you mean accounts?",
            )
        ],
    ),
    (
        "shared file without shards",
        [(SHARED, lambda document: document.pop("shards"))],
        CORE,
        [
            Problem(
                "organization.yaml: shards",
                "missing key",
                "nothing",
                "shards.stacks: the name of every stack that includes this file",
                "add `shards: {stacks: [STACK, ...]}` to organization.yaml",
            )
        ],
    ),
    (
        "stack listed twice",
        [(SHARED, lambda document: document["shards"]["stacks"].append(CORE))],
        CORE,
        [
            Problem(
                "organization.yaml: shards.stacks",
                "prod-core is listed twice",
                '["prod-core", "prod-workloads", "prod-core"]',
                "each name once",
                "remove the duplicate",
            )
        ],
    ),
    (
        "invalid maximum",
        [
            (
                SHARED,
                lambda document: document["shards"].update(maxAccountsPerStack=0),
            )
        ],
        CORE,
        [
            Problem(
                "organization.yaml: shards.maxAccountsPerStack",
                "maxAccountsPerStack is not a whole number greater than 0",
                "0",
                "a whole number of accounts, for example 25",
                "write the number unquoted",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("edits", "stack", "expected"),
    [
        pytest.param(edits, stack, expected, id=name)
        for name, edits, stack, expected in INVALID_CASES
    ],
)
def test_invalid_shards(
    project: Path, edits: list[Edit], stack: str, expected: list[Problem]
) -> None:
    for file_name, change in edits:
        edit(project, file_name, change)
    with pytest.raises(ConfigError) as raised:
        load(project, stack)
    assert raised.value.problems == expected


def test_shared_definitions_name_the_file(project: Path) -> None:
    def unquote_id(document: dict[str, Any]) -> None:
        document["accounts"][4]["id"] = 12345678901

    edit(project, SHARED, unquote_id)
    with pytest.raises(ConfigError) as raised:
        load(project, CORE)
    paths = [problem.path for problem in raised.value.problems]
    assert paths == ["organization.yaml: accounts[4].id"]


@pytest.mark.parametrize("key", ["shard", "secrets"])
def test_shard_keys_need_shared_file(prod_values, key: str) -> None:
    prod_values[key] = {"accounts": ["sandbox"]}
    with pytest.raises(ConfigError) as raised:
        shards.load(prod_values, PROD_SECRET_KEYS, PROJECT_DIR, "prod")
    assert raised.value.problems == [
        Problem(
            f"org-governance:{key}",
            "key is used only with org-governance:shared",
            '{"accounts": ["sandbox"]}',
            "a stack file that includes a shared file",
            f"remove {key}, or move the organization's definitions to a shared "
            "file and add org-governance:shared",
        )
    ]


def test_unsharded_stack_lists_no_stacks(prod_values) -> None:
    prod_values["shards"] = {"stacks": ["prod"]}
    with pytest.raises(ConfigError) as raised:
        shards.load(prod_values, PROD_SECRET_KEYS, PROJECT_DIR, "prod")
    assert [problem.message for problem in raised.value.problems] == [
        "stacks are listed in a stack without a shared file"
    ]


def test_stack_over_maximum_warns(project: Path) -> None:
    edit(
        project,
        SHARED,
        lambda document: document["shards"].update(maxAccountsPerStack=4),
    )
    organization, _ = load(project, CORE)
    assert organization.warnings == (
        Problem(
            "shard",
            "stack prod-core covers 5 accounts, more than maxAccountsPerStack (4)",
            "5",
            "at most 4 accounts per stack",
            "split the accounts over more stacks: under `pulumi up` each account's "
            "provider runs as its own process, an estimated 170-430 MB each, so 6 "
            "providers need an estimated 1.0-2.6 GB",
        ),
    )


def test_describe_warns_about_every_stack(project: Path) -> None:
    edit(
        project,
        SHARED,
        lambda document: document["shards"].update(maxAccountsPerStack=4),
    )
    stacks = shards.describe(project, SHARED)
    assert sorted(stacks.warnings) == [CORE, WORKLOADS]
    assert stacks.warnings[WORKLOADS][0].path == "Pulumi.prod-workloads.yaml: shard"


def test_unsharded_stack_over_maximum_warns(prod_values) -> None:
    prod_values["shards"] = {"maxAccountsPerStack": 9}
    organization, _ = shards.load(prod_values, PROD_SECRET_KEYS, PROJECT_DIR, "prod")
    assert [warning.path for warning in organization.warnings] == ["accounts"]
    assert organization.warnings[0].message == (
        "stack prod covers 10 accounts, more than maxAccountsPerStack (9)"
    )


def test_account_named_and_in_unit_counts_once(project: Path) -> None:
    edit(project, CORE_FILE, shard_of(add_sandbox_by_name))
    _, core = load(project, CORE)
    assert core.accounts == CORE_ACCOUNTS
