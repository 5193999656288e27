"""Configuration validation: each invalid input and the exact problem it produces."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from governance import config
from governance.problems import ConfigError, Problem
from tests.changes import (
    Change,
    case_params,
    delete_key,
    problems_after,
    set_key,
)

# The prod stack's external ids are secure values, so its role key is secret.
SECRET_KEYS = frozenset({"executionRoles"})

ID_ALLOWED = 'a 12-digit string, for example "012345678901"'
ID_FIX = (
    "copy the id from the Organizations console or `aws organizations list-accounts`"
)
UNITS = (
    "infrastructure, sandbox, security, workloads, workloads-dev, workloads-prod, "
    "workloads-staging"
)


INVALID_CASES: list[tuple[str, list[Change], list[Problem]]] = [
    (
        "account id as YAML number",
        [set_key("accounts.3.id", 12345678901)],
        [
            Problem(
                "accounts[3].id",
                "account id is a YAML number, so any leading zero is lost",
                "12345678901",
                ID_ALLOWED,
                'quote the id in the stack file, for example "012345678901"',
            )
        ],
    ),
    (
        "account id as YAML float",
        [set_key("accounts.3.id", 12345678901.0)],
        [
            Problem(
                "accounts[3].id",
                "account id is a YAML number, so any leading zero is lost",
                "12345678901.0",
                ID_ALLOWED,
                'quote the id in the stack file, for example "012345678901"',
            )
        ],
    ),
    (
        "account id with 11 digits",
        [set_key("accounts.0.id", "21098765432")],
        [
            Problem(
                "accounts[0].id",
                "account id has 11 digits, not 12",
                '"21098765432"',
                ID_ALLOWED,
                ID_FIX,
            )
        ],
    ),
    (
        "account id with 13 digits",
        [set_key("accounts.0.id", "2109876543210")],
        [
            Problem(
                "accounts[0].id",
                "account id has 13 digits, not 12",
                '"2109876543210"',
                ID_ALLOWED,
                ID_FIX,
            )
        ],
    ),
    (
        "account id with letters",
        [set_key("accounts.0.id", "21098765432x")],
        [
            Problem(
                "accounts[0].id",
                "account id must contain digits only",
                '"21098765432x"',
                ID_ALLOWED,
                ID_FIX,
            )
        ],
    ),
    (
        "account id with trailing newline",
        [set_key("accounts.0.id", "210987654321\n")],
        [
            Problem(
                "accounts[0].id",
                "account id must contain digits only",
                '"210987654321\\n"',
                ID_ALLOWED,
                ID_FIX,
            )
        ],
    ),
    (
        "duplicate account name ignoring case",
        [set_key("accounts.3.name", "Shared-Services")],
        [
            Problem(
                "accounts[3].name",
                "duplicate account name (names are compared ignoring case)",
                '"Shared-Services"',
                "a name used by one account only",
                "rename it; accounts[2] already uses it",
            )
        ],
    ),
    (
        "duplicate account id",
        [set_key("accounts.5.id", "012345678901")],
        [
            Problem(
                "accounts[5].id",
                "duplicate account id",
                '"012345678901"',
                "one entry per member account",
                "remove the entry or correct the id; accounts[4] already has it",
            )
        ],
    ),
    (
        "unknown organizational unit",
        [set_key("accounts.4.organizationalUnit", "workload-prod")],
        [
            Problem(
                "accounts[4].organizationalUnit",
                "unknown organizational unit",
                '"workload-prod"',
                "the name of a unit in organization.organizationalUnits: " + UNITS,
                "did you mean workloads-prod or workloads-dev or workloads?",
            )
        ],
    ),
    (
        "unknown key in account",
        [set_key("accounts.2.regoin", "eu-west-1")],
        [
            Problem(
                "accounts[2].regoin",
                "unknown key",
                'regoin: "eu-west-1"',
                "one of budget, deploymentRoleName, email, id, name, network, "
                "organizationalUnit, region, tags",
                "did you mean region?",
            )
        ],
    ),
    (
        "unknown key in organization",
        [set_key("organization.defaultRegoin", "eu-west-1")],
        [
            Problem(
                "organization.defaultRegoin",
                "unknown key",
                'defaultRegoin: "eu-west-1"',
                "one of budget, defaultRegion, deploymentRoleName, id, "
                "managementAccountId, managementRoleName, network, "
                "organizationalUnits, quotas, rootId, tags",
                "did you mean defaultRegion?",
            )
        ],
    ),
    (
        "unknown top-level key",
        [set_key("acounts", [])],
        [
            Problem(
                "org-governance:acounts",
                "unknown configuration key",
                "[]",
                "keys of the org-governance namespace: accounts, executionRoles, "
                "layers, organization, secrets, shard, shards, shared",
                "did you mean accounts?",
            )
        ],
    ),
    (
        "malformed organization id",
        [set_key("organization.id", "o-ABC")],
        [
            Problem(
                "organization.id",
                "invalid organization id",
                '"o-ABC"',
                '"o-" and 10-32 lowercase letters or digits, for example o-a1b2c3d4e5',
                "copy the id from `aws organizations describe-organization`",
            )
        ],
    ),
    (
        "no accounts",
        [set_key("accounts", [])],
        [
            Problem(
                "accounts",
                "no entries",
                "[]",
                "at least one entry",
                "add an entry for each member account this stack governs",
            )
        ],
    ),
    (
        "accounts key missing",
        [delete_key("accounts")],
        [
            Problem(
                "org-governance:accounts",
                "missing configuration key",
                "nothing",
                "a list with one entry per member account",
                "add `org-governance:accounts` to the stack file",
            )
        ],
    ),
    (
        "unknown region",
        [set_key("accounts.9.region", "eu-west-9")],
        [
            Problem(
                "accounts[9].region",
                "unknown region",
                '"eu-west-9"',
                "an AWS region name, for example eu-west-1",
                "did you mean eu-west-3 or eu-west-2 or eu-west-1?",
            )
        ],
    ),
    (
        "region in another partition",
        [set_key("accounts.9.region", "cn-north-1")],
        [
            Problem(
                "accounts[9].region",
                "region is in another partition than the organization",
                '"cn-north-1"',
                "a region of the aws partition, like organization.defaultRegion",
                "choose a region of the organization's partition",
            )
        ],
    ),
    (
        "management role as an ARN",
        [
            set_key(
                "organization.managementRoleName",
                "arn:aws:iam::900000000001:role/OrgGovernanceDeploymentRole",
            )
        ],
        [
            Problem(
                "organization.managementRoleName",
                "IAM role name is an ARN or has a path",
                '"arn:aws:iam::900000000001:role/OrgGovernanceDeploymentRole"',
                '1-64 characters from letters, digits and "+=,.@_-"',
                "write the role's name alone, 'OrgGovernanceDeploymentRole'; the "
                "program builds the ARN from it",
            )
        ],
    ),
    (
        "deployment role with a path",
        [set_key("accounts.2.deploymentRoleName", "ci/deployer")],
        [
            Problem(
                "accounts[2].deploymentRoleName",
                "IAM role name is an ARN or has a path",
                '"ci/deployer"',
                '1-64 characters from letters, digits and "+=,.@_-"',
                "write the role's name alone, 'deployer'; the program builds the ARN "
                "from it",
            )
        ],
    ),
    (
        "missing management role",
        [delete_key("organization.managementRoleName")],
        [
            Problem(
                "organization.managementRoleName",
                "missing required key",
                "nothing",
                "the name of a role in the management account that the deployment "
                "credentials may assume, for example OrgGovernanceDeploymentRole",
                "create that role in the management account and name it in "
                "managementRoleName; OrganizationAccountAccessRole exists only in "
                "member accounts that Organizations created",
            )
        ],
    ),
    (
        "missing account name",
        [delete_key("accounts.1.name")],
        [
            Problem(
                "accounts[1].name",
                "missing required key",
                "nothing",
                "a value",
                "add `name`",
            )
        ],
    ),
    (
        "management account as member",
        [set_key("accounts.1.id", "900000000001")],
        [
            Problem(
                "accounts[1].id",
                "the management account is not a member account",
                '"900000000001"',
                "the id of a member account",
                "remove the entry; organization-level resources go to the management "
                "account's provider",
            )
        ],
    ),
    (
        "unknown parent unit",
        [set_key("organization.organizationalUnits.3.parent", "workload")],
        [
            Problem(
                "organization.organizationalUnits[3].parent",
                "unknown parent organizational unit",
                '"workload"',
                "the name of a unit in organization.organizationalUnits: " + UNITS,
                "did you mean workloads or workloads-dev or workloads-prod?",
            )
        ],
    ),
    (
        "unit parent cycle",
        [set_key("organization.organizationalUnits.2.parent", "workloads-prod")],
        [
            Problem(
                "organization.organizationalUnits[2].parent",
                "organizational units form a cycle",
                '"workloads-prod"',
                "a parent chain that ends at the root",
                "cycle: workloads -> workloads-prod -> workloads; remove one parent",
            ),
            Problem(
                "organization.organizationalUnits[3].parent",
                "organizational units form a cycle",
                '"workloads"',
                "a parent chain that ends at the root",
                "cycle: workloads-prod -> workloads -> workloads-prod; "
                "remove one parent",
            ),
        ],
    ),
    (
        "invalid email",
        [set_key("accounts.0.email", "security at example.com")],
        [
            Problem(
                "accounts[0].email",
                "invalid email address: An email address must have an @-sign.",
                '"security at example.com"',
                "an email address of ASCII characters, for example "
                "aws+payments@example.com",
                "correct it",
            )
        ],
    ),
    (
        "look-alike domain in account email",
        [set_key("accounts.0.email", "aws+security-audit@ex\u0430mple.com")],
        [
            Problem(
                "accounts[0].email",
                "email address contains the non-ASCII character '\u0430' "
                "(U+0430 CYRILLIC SMALL LETTER A); addresses must be ASCII, because "
                "a look-alike letter can point an address at another domain",
                '"aws+security-audit@ex\\u0430mple.com"',
                "an email address of ASCII characters, for example "
                "aws+payments@example.com",
                "retype the address in ASCII; write an internationalized domain in "
                "its xn-- (punycode) form",
            )
        ],
    ),
    (
        "reserved tag prefix",
        [set_key("accounts.0.tags", {"aws:owner": "x"})],
        [
            Problem(
                "accounts[0].tags",
                "tag key 'aws:owner' uses the reserved aws: prefix",
                '{"aws:owner": "x"}',
                "a mapping of at most 50 tags; keys 1-128 and values 0-256 characters "
                'of letters, digits, spaces and "_.:/=+-@"; keys not starting with '
                '"aws:"',
                "rename the key",
            )
        ],
    ),
    (
        "several problems at once",
        [
            set_key("accounts.3.id", 12345678901),
            set_key("accounts.7.organizationalUnit", "nowhere"),
            set_key("organization.id", "o-short"),
        ],
        [
            Problem(
                "accounts[3].id",
                "account id is a YAML number, so any leading zero is lost",
                "12345678901",
                ID_ALLOWED,
                'quote the id in the stack file, for example "012345678901"',
            ),
            Problem(
                "organization.id",
                "invalid organization id",
                '"o-short"',
                '"o-" and 10-32 lowercase letters or digits, for example o-a1b2c3d4e5',
                "copy the id from `aws organizations describe-organization`",
            ),
        ],
    ),
]


@pytest.mark.parametrize(("changes", "expected"), case_params(INVALID_CASES))
def test_invalid_configuration(
    prod_values: dict[str, Any], changes: list[Change], expected: list[Problem]
) -> None:
    assert problems_after(prod_values, changes) == expected


def test_unknown_unit_checked_beside_bad_entry(prod_values: dict[str, Any]) -> None:
    # One invalid entry must not hide a reference problem in another entry.
    prod_values["accounts"][0]["id"] = "1"
    prod_values["accounts"][1]["organizationalUnit"] = "nowhere"
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, SECRET_KEYS)
    paths = [problem.path for problem in raised.value.problems]
    assert paths == ["accounts[0].id", "accounts[1].organizationalUnit"]


def test_prod_stack_is_valid(prod_values: dict[str, Any]) -> None:
    organization = config.load(prod_values, SECRET_KEYS)
    assert len(organization.accounts) == 10
    assert [account.name for account in organization.accounts] == sorted(
        account["name"] for account in prod_values["accounts"]
    )


def test_defaults_resolved(prod_values: dict[str, Any]) -> None:
    organization = config.load(prod_values, SECRET_KEYS)
    sandbox = organization.account_by_name["sandbox"]
    payments = organization.account_by_name["payments-prod"]
    assert sandbox.region == "us-east-1"
    assert payments.region == "eu-west-1"
    assert payments.deployment_role_name == "OrganizationAccountAccessRole"
    assert payments.tags == {
        "Application": "payments",
        "CostCenter": "platform",
        "Owner": "platform-team",
    }
    assert organization.management_role_name == "OrgGovernanceDeploymentRole"


def test_unit_paths_follow_parents(prod_values: dict[str, Any]) -> None:
    organization = config.load(prod_values, SECRET_KEYS)
    assert (
        organization.units["workloads-prod"].path
        == "o-7k2m9x4q1z/r-7k2m/ou-7k2m-j9k0l1m2/ou-7k2m-n3p4q5r6/"
    )
    assert (
        organization.units["security"].path == "o-7k2m9x4q1z/r-7k2m/ou-7k2m-a1b2c3d4/"
    )
    in_workloads = [
        account.name for account in organization.accounts_in_unit("workloads")
    ]
    assert in_workloads == [
        "orders-prod",
        "orders-staging",
        "payments-dev",
        "payments-prod",
        "payments-staging",
    ]


def test_entry_order_does_not_matter(prod_values: dict[str, Any]) -> None:
    reordered = copy.deepcopy(prod_values)
    reordered["accounts"].reverse()
    reordered["organization"]["organizationalUnits"].reverse()
    assert config.load(reordered, SECRET_KEYS) == config.load(prod_values, SECRET_KEYS)


def test_bad_field_hides_no_reference_in_same_entry(
    prod_values: dict[str, Any],
) -> None:
    prod_values["accounts"][3]["id"] = 12345678901
    prod_values["accounts"][3]["organizationalUnit"] = "workload-prod"
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, SECRET_KEYS)
    paths = [problem.path for problem in raised.value.problems]
    assert paths == ["accounts[3].id", "accounts[3].organizationalUnit"]


def test_bad_account_hides_no_role_problem(prod_values: dict[str, Any]) -> None:
    prod_values["accounts"][3]["budget"] = {"limitUsd": -1}
    trusted = prod_values["executionRoles"][0]["trustedPrincipals"][0]
    trusted["account"] = "shared-servces"
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, SECRET_KEYS)
    paths = [problem.path for problem in raised.value.problems]
    assert paths == [
        "accounts[3].budget.limitUsd",
        "executionRoles[0].trustedPrincipals[0].account",
    ]


def test_reference_to_invalid_account_reported_once(
    prod_values: dict[str, Any],
) -> None:
    # shared-services is trusted by a role; its own bad id is the one problem.
    prod_values["accounts"][2]["id"] = "1"
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, SECRET_KEYS)
    assert [problem.path for problem in raised.value.problems] == ["accounts[2].id"]


def test_member_role_as_management_role_warns(prod_values: dict[str, Any]) -> None:
    prod_values["organization"]["managementRoleName"] = "OrganizationAccountAccessRole"
    organization = config.load(prod_values, SECRET_KEYS)
    assert [warning.path for warning in organization.warnings] == [
        "organization.managementRoleName"
    ]
    assert organization.warnings[0].message == (
        "OrganizationAccountAccessRole exists in a management account only if "
        "someone created it there; Organizations creates it in member accounts"
    )
