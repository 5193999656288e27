"""Execution role definitions: invalid inputs, trust policies of the sample, quotas."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from governance import config, policy
from governance.cli import main
from governance.plan import plan_organization
from governance.problems import ConfigError, Problem
from tests.conftest import PROD_SECRET_KEYS, PROJECT_DIR

Change = Callable[[dict[str, Any]], None]


def role(index: int, change: Callable[[dict[str, Any]], None]) -> Change:
    """Return a change applied to one role definition of the prod stack."""

    def apply(values: dict[str, Any]) -> None:
        change(values["executionRoles"][index])

    return apply


def load_and_plan(values: dict[str, Any]) -> Any:
    organization = config.load(values, PROD_SECRET_KEYS)
    return plan_organization(organization, "org-governance", "prod")


def many_trusted_accounts(definition: dict[str, Any]) -> None:
    names = [
        "security-audit",
        "log-archive",
        "shared-services",
        "network",
        "payments-prod",
        "orders-prod",
        "payments-staging",
        "orders-staging",
        "payments-dev",
        "sandbox",
    ]
    definition["trustedPrincipals"] = [
        {"account": name, "roles": [f"ci/deployer-{number}" for number in range(4)]}
        for name in names
    ]


def many_partner_roles(definition: dict[str, Any]) -> None:
    definition["trustedPrincipals"][0]["roles"] = [
        f"auditor-{number}" for number in range(60)
    ]


INVALID_ROLES: list[tuple[str, Change, list[Problem]]] = [
    (
        "partner without external id",
        role(2, lambda definition: definition.pop("externalId")),
        [
            Problem(
                "executionRoles[2].trustedPrincipals[0].partnerAccountId",
                "a principal outside the organization requires an external id",
                '"777788889999"',
                "a role definition with externalId set as a secret",
                "agree an external id with the partner and set it with `pulumi config "
                "set --secret --path 'executionRoles[2].externalId' VALUE`",
            )
        ],
    ),
    (
        "trusted account outside organization",
        role(
            0,
            lambda definition: definition["trustedPrincipals"].append(
                {"account": "777788889999", "roles": ["auditor"]}
            ),
        ),
        [
            Problem(
                "executionRoles[0].trustedPrincipals[2].account",
                "trusted account is not in the organization",
                '"777788889999"',
                "the name or id of an entry in accounts, or a partner declared with "
                "partnerAccountId",
                "if 777788889999 is an external partner, write partnerAccountId: "
                '"777788889999" and set externalId',
            )
        ],
    ),
    (
        "session duration too short",
        role(0, lambda definition: definition.update(maxSessionDuration=100)),
        [
            Problem(
                "executionRoles[0].maxSessionDuration",
                "maxSessionDuration 100 is out of range",
                "100",
                "a whole number of seconds from 3600 (1 hour) to 43200 (12 hours)",
                "use 3600 for one hour; IAM rejects shorter or longer sessions",
            )
        ],
    ),
    (
        "role name of 70 characters",
        role(0, lambda definition: definition.update(name="R" * 70)),
        [
            Problem(
                "executionRoles[0].name",
                "IAM role name has 70 characters, over IAM's limit of 64",
                json.dumps("R" * 70),
                '1-64 characters from letters, digits and "+=,.@_-"',
                "shorten the name",
            )
        ],
    ),
    (
        "unknown condition key",
        role(
            0,
            lambda definition: definition["statements"][0].update(
                conditions={"StringEquals": {"aws:PrincipleOrgID": "o-7k2m9x4q1z"}}
            ),
        ),
        [
            Problem(
                "executionRoles[0].statements[0].conditions.StringEquals."
                "aws:PrincipleOrgID",
                "unknown condition key",
                '"aws:PrincipleOrgID"',
                "a global key (aws:...) or a key of the service it names",
                "did you mean aws:PrincipalOrgID?",
            )
        ],
    ),
    (
        "partner trust policy over quota, external id length not shown",
        role(2, many_partner_roles),
        [
            Problem(
                "executionRoles[2].trustedPrincipals",
                "trust policy of role PartnerAuditRole is 2,871 characters plus its "
                "external ids without whitespace, over the quota",
                "2,871 characters plus its external ids",
                "at most 2,048 characters (organization.quotas.trustPolicyLength)",
                "trust a unit in place of many accounts, or raise the IAM quota 'Role "
                "trust policy length' and set organization.quotas.trustPolicyLength",
            )
        ],
    ),
    (
        "trust policy over quota",
        role(1, many_trusted_accounts),
        [
            Problem(
                "executionRoles[1].trustedPrincipals",
                "trust policy of role WorkloadDeployer is 2,482 characters without "
                "whitespace, over the quota",
                "2,482 characters",
                "at most 2,048 characters (organization.quotas.trustPolicyLength)",
                "trust a unit in place of many accounts, or raise the IAM quota 'Role "
                "trust policy length' and set organization.quotas.trustPolicyLength",
            )
        ],
    ),
    (
        "unknown condition operator",
        role(
            0,
            lambda definition: definition["statements"][0].update(
                conditions={"StringEqual": {"aws:RequestedRegion": "eu-west-1"}}
            ),
        ),
        [
            Problem(
                "executionRoles[0].statements[0].conditions.StringEqual",
                "unknown condition operator",
                '"StringEqual"',
                "an IAM condition operator such as StringEquals, ArnLike, Bool, with "
                "IfExists or ForAnyValue:/ForAllValues: where IAM allows",
                "did you mean StringEquals or StringNotEquals or ArnEquals?",
            )
        ],
    ),
    (
        "unknown action",
        role(
            0,
            lambda definition: definition["statements"][1].update(
                actions=["s3:GetObjects"]
            ),
        ),
        [
            Problem(
                "executionRoles[0].statements[1].actions[0]",
                "unknown action: no action of the service matches it",
                '"s3:GetObjects"',
                'an IAM action "service:Action", wildcards allowed, for example '
                "s3:GetObject",
                "check the action's spelling",
            )
        ],
    ),
    (
        "unknown placeholder",
        role(
            0,
            lambda definition: definition["statements"][1].update(
                resources=["s3:bucket-{acount}/*"]
            ),
        ),
        [
            Problem(
                "executionRoles[0].statements[1].resources[0]",
                "invalid resource: unknown placeholder {acount}",
                '"s3:bucket-{acount}/*"',
                '"*", an ARN, or "service:resource" for the target account and '
                "region; placeholders {account}, {region}, {partition}",
                "for example dynamodb:table/shared-* or arn:{partition}:s3:::bucket/*",
            )
        ],
    ),
    (
        "in-org principal without roles",
        role(0, lambda definition: definition["trustedPrincipals"][0].update(roles=[])),
        [
            Problem(
                "executionRoles[0].trustedPrincipals[0]",
                "a principal inside the organization names no roles",
                '{"account": "shared-services", "roles": []}',
                "a list of the roles allowed to assume this one",
                "add roles: [ROLE_NAME]; trusting a whole member account is not "
                "supported, so every trusted role is named",
            )
        ],
    ),
    (
        "principal of two kinds",
        role(
            0,
            lambda definition: definition["trustedPrincipals"][0].update(
                organizationalUnit="security"
            ),
        ),
        [
            Problem(
                "executionRoles[0].trustedPrincipals[0]",
                "a trusted principal names 2 kinds (account, organizationalUnit)",
                '{"account": "shared-services", "organizationalUnit": "security", '
                '"roles": ["service-role/shared-lambda-execution"]}',
                "exactly one of account, organizationalUnit, partnerAccountId",
                "split it into one entry per kind",
            )
        ],
    ),
    (
        "partner inside organization",
        role(
            2,
            lambda definition: definition["trustedPrincipals"][0].update(
                partnerAccountId="408765432109"
            ),
        ),
        [
            Problem(
                "executionRoles[2].trustedPrincipals[0].partnerAccountId",
                "partner account is in the organization",
                '"408765432109"',
                "the id of an account outside the organization",
                "write account: shared-services with the roles it may use",
            )
        ],
    ),
    (
        "unknown target unit",
        role(
            1,
            lambda definition: definition.update(
                targets={"organizationalUnits": ["workload"]}
            ),
        ),
        [
            Problem(
                "executionRoles[1].targets.organizationalUnits[0]",
                "unknown organizational unit",
                '"workload"',
                "the name of a unit in organization.organizationalUnits: "
                "infrastructure, sandbox, security, workloads, workloads-dev, "
                "workloads-prod, workloads-staging",
                "did you mean workloads or workloads-dev or workloads-prod?",
            )
        ],
    ),
    (
        "external id too short",
        role(0, lambda definition: definition.update(externalId="x")),
        [
            Problem(
                "executionRoles[0].externalId",
                "invalid external id (1 characters)",
                "[secret]",
                "2-1224 characters from letters, digits, '_' and '+=,.@:/-'",
                "generate one with `openssl rand -hex 16` and set it with `pulumi "
                "config set --secret --path ...externalId`",
            )
        ],
    ),
    (
        "duplicate role name ignoring case",
        lambda values: values["executionRoles"].append(
            {**copy.deepcopy(values["executionRoles"][1]), "name": "workloaddeployer"}
        ),
        [
            Problem(
                "executionRoles[3].name",
                "role name already used in account orders-prod (IAM compares role "
                "names ignoring case)",
                '"workloaddeployer"',
                "a role name unique in each target account",
                "rename it; executionRoles[1] already creates it there",
            )
        ],
    ),
    (
        "too many managed policies",
        role(
            2,
            lambda definition: definition.update(
                managedPolicyArns=[
                    f"arn:aws:iam::aws:policy/Policy{number}" for number in range(11)
                ]
            ),
        ),
        [
            Problem(
                "executionRoles[2].managedPolicyArns",
                "role PartnerAuditRole attaches 11 managed policies, over the quota",
                "11 policies",
                "at most 10 (organization.quotas.managedPoliciesPerRole)",
                "combine policies, or raise the IAM quota 'Managed policies per role' "
                "and set organization.quotas.managedPoliciesPerRole",
            )
        ],
    ),
    (
        "session tags not a boolean",
        role(1, lambda definition: definition.update(allowSessionTags="yes")),
        [
            Problem(
                "executionRoles[1].allowSessionTags",
                "not a boolean",
                '"yes"',
                "true or false",
                "write true or false unquoted",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(change, expected, id=name)
        for name, change, expected in INVALID_ROLES
    ],
)
def test_invalid_role(
    prod_values: dict[str, Any], change: Change, expected: list[Problem]
) -> None:
    change(prod_values)
    with pytest.raises(ConfigError) as raised:
        load_and_plan(prod_values)
    assert raised.value.problems == expected


def test_plain_external_id_rejected(prod_values: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, frozenset())
    assert [problem.path for problem in raised.value.problems] == [
        "executionRoles[0].externalId",
        "executionRoles[2].externalId",
    ]
    assert raised.value.problems[0].found == "[secret]"
    assert "offline-preview-secret" not in raised.value.render()


def test_raised_quota_accepts_policy(prod_values: dict[str, Any]) -> None:
    many_trusted_accounts(prod_values["executionRoles"][1])
    prod_values["organization"]["quotas"] = {"trustPolicyLength": 4096}
    plan = load_and_plan(prod_values)
    account = next(item for item in plan.accounts if item.name == "payments-prod")
    deployer = next(
        item for item in account.execution_roles if item.name == "WorkloadDeployer"
    )
    size = policy.size_without_whitespace(deployer.trust_policy)
    assert 2048 < size <= 4096


def test_quota_problem_hides_external_id_length(prod_values: dict[str, Any]) -> None:
    messages = []
    for external_id in ("short-id", "a-much-longer-external-id-" * 20):
        values = copy.deepcopy(prod_values)
        many_partner_roles(values["executionRoles"][2])
        values["executionRoles"][2]["externalId"] = external_id
        with pytest.raises(ConfigError) as raised:
            load_and_plan(values)
        messages.append([problem.message for problem in raised.value.problems])
    assert messages[0] == messages[1]


def write_stack(tmp_path: Path, change: Callable[[Any], None]) -> Path:
    """Write a copy of the prod stack file with a change applied to its YAML."""
    yaml = YAML()
    document = yaml.load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())
    change(document["config"])
    path = tmp_path / "Pulumi.changed.yaml"
    with path.open("w") as stream:
        yaml.dump(document, stream)
    return path


CLI_CASES = [
    (
        "partner without external id",
        lambda c: c["org-governance:executionRoles"][2].pop("externalId"),
        "executionRoles[2].trustedPrincipals[0].partnerAccountId: a principal outside "
        "the organization requires an external id",
    ),
    (
        "account not in organization",
        lambda c: c["org-governance:executionRoles"][0]["trustedPrincipals"].append(
            {"account": "777788889999", "roles": ["auditor"]}
        ),
        "executionRoles[0].trustedPrincipals[2].account: trusted account is not in "
        "the organization",
    ),
    (
        "session duration 100",
        lambda c: c["org-governance:executionRoles"][0].update(maxSessionDuration=100),
        "executionRoles[0].maxSessionDuration: maxSessionDuration 100 is out of range",
    ),
    (
        "role name of 70 characters",
        lambda c: c["org-governance:executionRoles"][0].update(name="R" * 70),
        "executionRoles[0].name: IAM role name has 70 characters, over IAM's limit "
        "of 64",
    ),
    (
        "unknown condition key",
        lambda c: c["org-governance:executionRoles"][0]["statements"][0].update(
            conditions={"StringEquals": {"aws:PrincipleOrgID": "o-7k2m9x4q1z"}}
        ),
        "executionRoles[0].statements[0].conditions.StringEquals.aws:PrincipleOrgID: "
        "unknown condition key",
    ),
    (
        "trust policy over quota",
        lambda c: many_trusted_accounts(c["org-governance:executionRoles"][1]),
        "executionRoles[1].trustedPrincipals: trust policy of role WorkloadDeployer is "
        "2,482 characters without whitespace, over the quota",
    ),
]


@pytest.mark.parametrize(
    ("change", "message"),
    [pytest.param(change, message, id=name) for name, change, message in CLI_CASES],
)
def test_invalid_role_exits_two(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[Any], None],
    message: str,
) -> None:
    path = write_stack(tmp_path, change)
    assert main(["validate", "--stack", "prod", "--config", str(path)]) == 2
    assert message in capsys.readouterr().err


def trust_of(plan: Any, account: str, role_name: str) -> dict[str, Any]:
    for planned in plan.accounts:
        if planned.name == account:
            for role_plan in planned.execution_roles:
                if role_plan.name == role_name:
                    return json.loads(policy.to_json(role_plan.trust_policy))
    raise KeyError((account, role_name))


def test_sample_lambda_role_trust(prod_values: dict[str, Any]) -> None:
    plan = load_and_plan(prod_values)
    assert trust_of(plan, "orders-prod", "CrossAccountLambdaRole") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OrgAccountRoles",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [
                        "arn:aws:iam::012345678901:root",
                        "arn:aws:iam::408765432109:root",
                    ]
                },
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {
                        "aws:PrincipalArn": [
                            "arn:aws:iam::012345678901:role/service-role/"
                            "payments-lambda-execution",
                            "arn:aws:iam::408765432109:role/service-role/"
                            "shared-lambda-execution",
                        ]
                    },
                    "StringEquals": {
                        "aws:PrincipalOrgID": "o-7k2m9x4q1z",
                        "sts:ExternalId": "[secret]",
                    },
                },
            }
        ],
    }


def test_sample_unit_role_trust(prod_values: dict[str, Any]) -> None:
    plan = load_and_plan(prod_values)
    trust = trust_of(plan, "payments-dev", "WorkloadDeployer")
    statement = trust["Statement"]
    assert statement == [
        {
            "Sid": "OrgUnitInfrastructure",
            "Effect": "Allow",
            "Principal": {
                "AWS": [
                    "arn:aws:iam::408765432109:root",
                    "arn:aws:iam::507654321098:root",
                ]
            },
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
            "Condition": {
                "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci/*"},
                "ForAnyValue:StringLike": {
                    "aws:PrincipalOrgPaths": "o-7k2m9x4q1z/r-7k2m/ou-7k2m-e5f6g7h8/*"
                },
                "StringEquals": {"aws:PrincipalOrgID": "o-7k2m9x4q1z"},
            },
        }
    ]


def test_sample_partner_role_trust(prod_values: dict[str, Any]) -> None:
    plan = load_and_plan(prod_values)
    trust = trust_of(plan, "sandbox", "PartnerAuditRole")
    assert trust["Statement"] == [
        {
            "Sid": "PartnerRoles",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::777788889999:root"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnLike": {
                    "aws:PrincipalArn": "arn:aws:iam::777788889999:role/auditor"
                },
                "StringEquals": {"sts:ExternalId": "[secret]"},
            },
        }
    ]


def test_inline_policy_scoped_to_account(prod_values: dict[str, Any]) -> None:
    plan = load_and_plan(prod_values)
    account = next(item for item in plan.accounts if item.name == "orders-staging")
    lambda_role = next(
        item
        for item in account.execution_roles
        if item.name == "CrossAccountLambdaRole"
    )
    statements = lambda_role.inline_policy["Statement"]
    assert (
        statements[0]["Resource"] == "arn:aws:s3:::org-shared-345678901234-eu-west-1/*"
    )
    assert statements[1]["Resource"] == [
        "arn:aws:dynamodb:eu-west-1:345678901234:table/shared-*",
        "arn:aws:dynamodb:eu-west-1:345678901234:table/shared-*/index/*",
    ]
    assert lambda_role.permissions_boundary is None
    deployer = next(
        item for item in account.execution_roles if item.name == "WorkloadDeployer"
    )
    assert deployer.permissions_boundary == (
        "arn:aws:iam::345678901234:policy/WorkloadBoundary"
    )


def test_roles_target_their_accounts(prod_values: dict[str, Any]) -> None:
    plan = load_and_plan(prod_values)
    by_account = {
        account.name: sorted(role.name for role in account.execution_roles)
        for account in plan.accounts
    }
    assert by_account["payments-prod"] == [
        "CrossAccountLambdaRole",
        "PartnerAuditRole",
        "WorkloadDeployer",
    ]
    assert by_account["shared-services"] == ["PartnerAuditRole"]
