"""Hostile or careless input: each case gives a problem, never a leak or a crash."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accounts.execution_role import attachment_suffix
from governance import config
from governance.plan import plan_organization
from governance.problems import ConfigError, Problem
from governance.stack_config import read_stack
from tests.conftest import PROD_SECRET_KEYS, PROJECT_DIR

Change = Callable[[dict[str, Any]], None]
UNITS = (
    "the name of a unit in organization.organizationalUnits: infrastructure, "
    "sandbox, security, workloads, workloads-dev, workloads-prod, workloads-staging"
)


def roles(values: dict[str, Any]) -> list[dict[str, Any]]:
    return values["executionRoles"]


CASES: list[tuple[str, Change, list[Problem]]] = [
    (
        "misspelt external id key is masked",
        lambda v: roles(v)[0].update(externalID="KnownExtId-4242-secret"),
        [
            Problem(
                "executionRoles[0].externalID",
                "unknown key",
                "externalID: [secret]",
                "one of allowSessionTags, allowSourceIdentity, description, "
                "externalId, managedPolicyArns, maxSessionDuration, name, path, "
                "permissionsBoundary, requireMfa, statements, targets, "
                "trustedPrincipals",
                "did you mean externalId?",
            )
        ],
    ),
    (
        "roles key as mapping is masked",
        lambda v: v.update(executionRoles={"externalId": "KnownExtId-4242-secret"}),
        [
            Problem(
                "executionRoles",
                "not a list",
                "[secret]",
                "a list of entries",
                "write one entry per line, each starting with '- '",
            )
        ],
    ),
    (
        "every role of an account",
        lambda v: roles(v)[0]["trustedPrincipals"][0].update(roles=["*"]),
        [
            Problem(
                "executionRoles[0].trustedPrincipals[0].roles[0]",
                '"*" trusts every role of the account, its administrator roles '
                "included",
                '"*"',
                'a role name ("deployer"), a path and name ("ci/deployer") or every '
                'role under a path ("ci/*")',
                "name the roles, or a path such as ci/*; to trust a partner account "
                "whole, leave out roles",
            )
        ],
    ),
    (
        "unit names equal as statement ids",
        lambda v: v["organization"]["organizationalUnits"].append(
            {"name": "Sandbox", "id": "ou-7k2m-99999999"}
        ),
        [
            Problem(
                "organization.organizationalUnits[7].name",
                "duplicate organizational unit name (compared ignoring case and "
                "hyphens, as the statement ids made from them)",
                '"Sandbox"',
                "a name used by one unit only",
                "rename it; organizationalUnits[6] already uses an equal name",
            )
        ],
    ),
    (
        "statement id used twice",
        lambda v: roles(v)[0]["statements"][1].update(sid="SharedTables"),
        [
            Problem(
                "executionRoles[0].statements[1].sid",
                "duplicate statement id",
                '"SharedTables"',
                "a sid used by one statement of the role only",
                "rename it; statements[0] already uses it",
            )
        ],
    ),
    (
        "managed policy of another account",
        lambda v: roles(v)[2].update(
            managedPolicyArns=["arn:aws:iam::111122223333:policy/Audit"]
        ),
        [
            Problem(
                "executionRoles[2].managedPolicyArns[0]",
                "managed policy ARN names an account",
                '"arn:aws:iam::111122223333:policy/Audit"',
                "arn:aws:iam::aws:policy/NAME for an AWS managed policy, or "
                "arn:{partition}:iam::{account}:policy/NAME for one in the target "
                "account",
                "write {account}: IAM attaches only a policy of the role's own "
                "account, and the role is created in every target account",
            )
        ],
    ),
    (
        "managed policy of another partition",
        lambda v: roles(v)[2].update(
            managedPolicyArns=["arn:aws-cn:iam::aws:policy/SecurityAudit"]
        ),
        [
            Problem(
                "executionRoles[2].managedPolicyArns[0]",
                "policy ARN is in the aws-cn partition, the organization in aws",
                '"arn:aws-cn:iam::aws:policy/SecurityAudit"',
                "an ARN of the aws partition, or written with {partition}",
                "write arn:{partition}:iam::...",
            )
        ],
    ),
    (
        "condition with no value",
        lambda v: roles(v)[0]["statements"][0].update(
            conditions={"StringEquals": {"aws:RequestedRegion": []}}
        ),
        [
            Problem(
                "executionRoles[0].statements[0].conditions.StringEquals."
                "aws:RequestedRegion",
                "condition has no value",
                "[]",
                "a string, a number, true or false, or a non-empty list of strings",
                "add a value",
            )
        ],
    ),
    (
        "targets a unit without accounts",
        lambda v: (
            v["organization"]["organizationalUnits"].append(
                {"name": "empty", "id": "ou-7k2m-99999999"}
            ),
            roles(v)[1].update(targets={"organizationalUnits": ["empty"]}),
        ),
        [
            Problem(
                "executionRoles[1].targets",
                "targets match no account",
                '{"organizationalUnits": ["empty"]}',
                "accounts by name, or units with at least one entry in accounts",
                "add the accounts of the unit, or name other targets",
            )
        ],
    ),
    (
        "empty account entry",
        lambda v: v["accounts"].append(None),
        [
            Problem(
                "accounts[10]",
                "empty entry",
                "null",
                "a mapping of keys to values",
                "fill in the entry or remove its '- ' line",
            )
        ],
    ),
    (
        "organization left empty",
        lambda v: v.update(organization=None),
        [
            Problem(
                "org-governance:organization",
                "missing configuration key",
                "nothing",
                "a value",
                "add `org-governance:organization` to the stack file",
            )
        ],
    ),
    (
        "tag the program sets",
        lambda v: v["accounts"][0].update(tags={"org-governance:stack": "other"}),
        [
            Problem(
                "accounts[0].tags",
                "tag key 'org-governance:stack' is set by the program on every "
                "resource",
                '{"org-governance:stack": "other"}',
                "a mapping of at most 50 tags; keys 1-128 and values 0-256 "
                'characters of letters, digits, spaces and "_.:/=+-@"; keys not '
                'starting with "aws:"',
                "rename the key",
            )
        ],
    ),
    (
        "too many tags together",
        lambda v: (
            v["organization"].update(tags={f"org{n}": "x" for n in range(30)}),
            v["accounts"][0].update(tags={f"acct{n}": "x" for n in range(20)}),
        ),
        [
            Problem(
                "accounts[0].tags",
                "50 tags with the organization's, over the 49 left beside the "
                "program's stack tag",
                "50 tags",
                "at most 49 tags for the organization and the account together "
                "(AWS allows 50 per resource)",
                "remove tags from the account or the organization",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in CASES],
)
def test_hostile_value(
    prod_values: dict[str, Any], change: Change, expected: list[Problem]
) -> None:
    change(prod_values)
    with pytest.raises(ConfigError) as raised:
        organization = config.load(prod_values, PROD_SECRET_KEYS)
        plan_organization(organization, "org-governance", "prod")
    assert raised.value.problems == expected
    assert "KnownExtId-4242-secret" not in raised.value.render()


def write_stack(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(text)
    return path


def prod_text() -> str:
    return (PROJECT_DIR / "Pulumi.prod.yaml").read_text()


def test_plain_external_id_beside_secure_ones(tmp_path: Path) -> None:
    text = prod_text().replace(
        "      allowSessionTags: true\n",
        "      allowSessionTags: true\n      externalId: my-plaintext-external-id\n",
    )
    stack = read_stack(PROJECT_DIR, "prod", write_stack(tmp_path, text))
    with pytest.raises(ConfigError) as raised:
        config.load(stack.values, stack.secret_keys, None, stack.secret_paths)
    assert raised.value.problems == [
        Problem(
            "executionRoles[1].externalId",
            "external id is stored as plain text",
            "[secret]",
            "a secret value in the stack file (secure: ...)",
            "delete the plain value, then run `pulumi config set --secret --path "
            "'executionRoles[1].externalId' VALUE`",
        )
    ]
    assert "my-plaintext-external-id" not in raised.value.render()


def test_secure_value_outside_external_id(tmp_path: Path) -> None:
    text = prod_text().replace(
        "      description: Read-only audit access for the external auditor\n",
        "      description:\n        secure: v1:AAAA\n",
    )
    stack = read_stack(PROJECT_DIR, "prod", write_stack(tmp_path, text))
    with pytest.raises(ConfigError) as raised:
        config.load(stack.values, stack.secret_keys, None, stack.secret_paths)
    assert raised.value.problems == [
        Problem(
            "executionRoles[2].description",
            "secure value where the program expects plain text",
            "[secret]",
            "encrypted values only in externalId",
            "write the value in plain text; the program would pass it to AWS "
            "unencrypted, and Pulumi would not mask it",
        )
    ]


def alias_bomb(path: Path) -> Path:
    """Write a stack file whose aliases stand for 10**9 values in a few lines."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(8):
        name, previous = chr(98 + level), chr(97 + level)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]")
    lines.append("config:\n  org-governance:bomb: *i")
    path.write_text("\n".join(lines) + "\n")
    return path


STACK_FILES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("directory", lambda tmp: tmp, "not a file"),
    (
        "invalid utf-8",
        lambda tmp: (tmp / "bad.yaml", (tmp / "bad.yaml").write_bytes(b"a: \xff\n"))[0],
        "not UTF-8 text",
    ),
    (
        "nested too deeply",
        lambda tmp: (
            tmp / "deep.yaml",
            (tmp / "deep.yaml").write_text(
                "config:\n  org-governance:deep: " + "[" * 5000 + "]" * 5000 + "\n"
            ),
        )[0],
        "YAML nested too deeply",
    ),
    (
        "alias bomb",
        lambda tmp: alias_bomb(tmp / "bomb.yaml"),
        "stack file expands to too many values",
    ),
    (
        "key set twice through the namespace",
        lambda tmp: (
            tmp / "twice.yaml",
            (tmp / "twice.yaml").write_text(
                "config:\n  org-governance:executionRoles: [1]\n  executionRoles: []\n"
            ),
        )[0],
        "configuration key set twice",
    ),
]


@pytest.mark.parametrize(
    ("make", "message"),
    [pytest.param(make, message, id=name) for name, make, message in STACK_FILES],
)
def test_unreadable_stack_file(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        read_stack(PROJECT_DIR, "prod", make(tmp_path))
    assert [problem.message for problem in raised.value.problems] == [message]


def test_names_with_hyphens_never_collide(prod_values: dict[str, Any]) -> None:
    values = copy.deepcopy(prod_values)
    values["accounts"].append(
        {"name": "payments", "id": "678901234567", "organizationalUnit": "sandbox"}
    )
    role = copy.deepcopy(roles(values)[2])
    role.update(name="prod-Deployer", targets={"accounts": ["payments"]})
    roles(values).append(role)
    other = copy.deepcopy(roles(values)[2])
    other.update(name="Deployer", targets={"accounts": ["payments-prod"]})
    roles(values).append(other)
    plan = plan_organization(
        config.load(values, PROD_SECRET_KEYS), "org-governance", "prod"
    )
    names = [
        role_plan.resource_name
        for account in plan.accounts
        for role_plan in account.execution_roles
    ]
    assert len(names) == len(set(names))
    assert "payments/prod-Deployer" in names
    assert "payments-prod/Deployer" in names


def test_attachment_names_keep_owner_and_path() -> None:
    assert attachment_suffix("arn:aws:iam::aws:policy/ReadOnlyAccess") == (
        "aws/ReadOnlyAccess"
    )
    assert attachment_suffix("arn:aws:iam::012345678901:policy/ReadOnlyAccess") == (
        "account/ReadOnlyAccess"
    )
    assert attachment_suffix("arn:aws:iam::012345678901:policy/team-a/Boundary") != (
        attachment_suffix("arn:aws:iam::012345678901:policy/team-b/Boundary")
    )


def test_policy_variable_left_alone(prod_values: dict[str, Any]) -> None:
    roles(prod_values)[0]["statements"][1]["resources"] = [
        "arn:{partition}:s3:::home/${aws:username}/{account}/*"
    ]
    plan = plan_organization(
        config.load(prod_values, PROD_SECRET_KEYS), "org-governance", "prod"
    )
    account = next(item for item in plan.accounts if item.name == "orders-prod")
    role = next(item for item in account.execution_roles if item.inline_policy)
    resources = [statement["Resource"] for statement in role.inline_policy["Statement"]]
    assert "arn:aws:s3:::home/${aws:username}/123456789012/*" in resources
