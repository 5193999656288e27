"""Deployed state read from `pulumi stack export`, in AWS's stored forms."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from governance import diff, findings, stored_state
from governance.policy_set import TRUST_POLICY
from governance.problems import ConfigError, Problem
from governance.stack_config import read_stack
from tests.conftest import PROJECT_DIR
from tests.governance.review_helpers import SMALL_STACK, STACK_EXPORT, policies

# The external id the fixture contains in plaintext, as `--show-secrets` writes it.
REAL_EXTERNAL_ID = "d41d8cd98f00b204e9800998ecf8427e"
PAYMENTS = "payments-prod (012345678901)"


@pytest.fixture(scope="module")
def export() -> dict[str, Any]:
    return json.loads(STACK_EXPORT.read_text())


@pytest.fixture(scope="module")
def small_policies():
    return policies(read_stack(PROJECT_DIR, "prod", SMALL_STACK).values)


def resource(document: dict[str, Any], name: str) -> dict[str, Any]:
    """Return the resource whose URN ends with `::name`."""
    return next(
        item
        for item in document["deployment"]["resources"]
        if item["urn"].endswith(f"::{name}")
    )


def test_export_accounts_from_providers(export) -> None:
    deployed = stored_state.from_export(export, "fixture")
    assert [(a.name, a.id, a.region) for a in deployed.accounts] == [
        ("payments-prod", "012345678901", "eu-west-1"),
        ("shared-services", "408765432109", "eu-west-1"),
    ]
    assert deployed.management_account_id == "900000000001"
    assert deployed.organization_id == "o-7k2m9x4q1z"
    assert (deployed.project, deployed.stack) == ("org-governance", "prod")


def test_export_entries(export) -> None:
    deployed = stored_state.from_export(export, "fixture")
    assert sorted(entry.path for entry in deployed.entries) == [
        "payments-prod/budget/payments-prod-monthly-cost.json",
        "payments-prod/endpoint-policy/s3.json",
        "payments-prod/endpoint-policy/sts.json",
        "payments-prod/role/PartnerAuditRole.json",
        "payments-prod/role/WorkloadDeployer.json",
        "payments-prod/topic-policy/payments-prod-budget-alarms.json",
        "payments-prod/trust-policy/PartnerAuditRole.json",
        "payments-prod/trust-policy/WorkloadDeployer.json",
        "shared-services/budget/shared-services-monthly-cost.json",
        "shared-services/layer-policy/org-monitoring-v1.json",
        "shared-services/topic-policy/shared-services-budget-alarms.json",
    ]


def test_stored_forms_equal_the_plan(export, small_policies) -> None:
    # One-element lists as strings, reordered keys, a Statement object in place of
    # a list, "1000.0" for 1000: only the dead principal is a real difference.
    deployed = stored_state.from_export(export, "fixture")
    lines = [change.line() for change in diff.diff(deployed, small_policies)]
    assert lines == [
        f"- {PAYMENTS} role WorkloadDeployer: dead principal AROA3XFRBF23EXAMPLE01 "
        "removed (the unique id of a deleted role or user; it matched no caller)"
    ]


def test_plaintext_external_id_is_masked(export, small_policies) -> None:
    deployed = stored_state.from_export(export, "fixture")
    trust = deployed.by_key()[("012345678901", TRUST_POLICY, "PartnerAuditRole")]
    condition = trust.document["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {"sts:ExternalId": "[secret]"}
    everything = json.dumps([entry.document for entry in deployed.entries])
    assert REAL_EXTERNAL_ID not in everything
    found = findings.check(deployed, "deployed")
    assert REAL_EXTERNAL_ID not in json.dumps([item.as_dict() for item in found])


def test_dead_principal_never_equals_role(export, small_policies) -> None:
    document = copy.deepcopy(export)
    role = resource(document, "payments-prod-WorkloadDeployer")
    role["outputs"]["assumeRolePolicy"] = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Sid": "OrgAccountRoles",
                "Effect": "Allow",
                "Principal": {"AWS": "AROA3XFRBF23EXAMPLE01"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-7k2m9x4q1z"}},
            },
        }
    )
    deployed = stored_state.from_export(document, "fixture")
    lines = [change.line() for change in diff.diff(deployed, small_policies)]
    assert lines == [
        f"- {PAYMENTS} role WorkloadDeployer: dead principal AROA3XFRBF23EXAMPLE01 "
        "removed (the unique id of a deleted role or user; it matched no caller)",
        f"+ {PAYMENTS} role WorkloadDeployer: "
        "arn:aws:iam::408765432109:role/ci/deployer may assume it (sts:AssumeRole) "
        "when aws:PrincipalOrgID StringEquals o-7k2m9x4q1z",
    ]


def test_newest_layer_version_decides_sharing(export, small_policies) -> None:
    document = copy.deepcopy(export)
    version = copy.deepcopy(resource(document, "org-monitoring-version"))
    version["urn"] += "-2"
    version["outputs"]["version"] = "2"
    document["deployment"]["resources"].append(version)
    deployed = stored_state.from_export(document, "fixture")
    lines = [change.line() for change in diff.diff(deployed, small_policies)]
    assert (
        "+ shared-services (408765432109) layer org-monitoring-v1: shared with "
        "account 012345678901 (payments-prod)"
    ) in lines


def test_encrypted_policy_is_invalid_input(export) -> None:
    document = copy.deepcopy(export)
    role = resource(document, "payments-prod-PartnerAuditRole")
    for section in ("inputs", "outputs"):
        role[section]["assumeRolePolicy"] = {
            stored_state.SECRET_SIGNATURE_KEY: stored_state.SECRET_SIGNATURE,
            "ciphertext": "v1:ZXhhbXBsZQ==:ZW5jcnlwdGVkLXBvbGljeQ==",
        }
    index = document["deployment"]["resources"].index(role)
    with pytest.raises(ConfigError) as raised:
        stored_state.from_export(document, "fixture")
    assert raised.value.problems == [
        Problem(
            f"deployment.resources[{index}].outputs.assumeRolePolicy",
            "value is encrypted",
            "a secret envelope with ciphertext",
            "a secret exported as plaintext",
            "export the stack with `pulumi stack export --show-secrets --file FILE`; "
            "external ids read from it are masked in every report",
        )
    ]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"version": 2, "deployment": {"resources": []}},
            Problem(
                "version",
                "unknown deployment version",
                "2",
                "a version 3 deployment, as `pulumi stack export` writes it",
                "export the stack with `pulumi stack export --file FILE`",
            ),
        ),
        (
            {"version": 3},
            Problem(
                "deployment",
                "missing deployment",
                "null",
                "a version 3 deployment, as `pulumi stack export` writes it",
                "export the stack with `pulumi stack export --file FILE`",
            ),
        ),
    ],
)
def test_invalid_export(document: dict[str, Any], expected: Problem) -> None:
    with pytest.raises(ConfigError) as raised:
        stored_state.from_export(document, "fixture")
    assert raised.value.problems == [expected]


def test_export_file_not_json(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("Current stack is prod\n{")
    with pytest.raises(ConfigError) as raised:
        stored_state.read_export(path)
    problem = raised.value.problems[0]
    assert problem.path == str(path)
    assert problem.message.startswith("invalid JSON: ")


def _trust_of(deployed: Any, path: str) -> Any:
    return next(entry.document for entry in deployed.entries if entry.path == path)


WIDE_OPEN = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
        ],
    }
)
DEPLOYER_TRUST = "payments-prod/trust-policy/WorkloadDeployer.json"


def test_export_secret_in_provider_keeps_account(export) -> None:
    changed = copy.deepcopy(export)
    provider = resource(changed, "payments-prod")
    provider["inputs"]["assumeRoles"] = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "ciphertext": "v1:abc",
    }
    deployed = stored_state.from_export(changed, "fixture")
    assert "payments-prod" in [account.name for account in deployed.accounts]
    assert DEPLOYER_TRUST in [entry.path for entry in deployed.entries]


def test_export_skips_pending_delete_copy(export) -> None:
    changed = copy.deepcopy(export)
    role = resource(changed, "payments-prod-WorkloadDeployer")
    pending = copy.deepcopy(role)
    pending["delete"] = True
    role["outputs"]["assumeRolePolicy"] = WIDE_OPEN
    changed["deployment"]["resources"].append(pending)
    deployed = stored_state.from_export(changed, "fixture")
    assert _trust_of(deployed, DEPLOYER_TRUST)["Statement"][0]["Principal"] == {
        "AWS": "*"
    }


def test_export_repeated_resource_is_a_problem(export) -> None:
    changed = copy.deepcopy(export)
    resources = changed["deployment"]["resources"]
    role = resource(changed, "payments-prod-WorkloadDeployer")
    resources.append(copy.deepcopy(role))
    with pytest.raises(ConfigError) as raised:
        stored_state.from_export(changed, "fixture")
    [problem] = raised.value.problems
    assert problem.path == f"deployment.resources[{len(resources) - 1}].urn"
    assert problem.message == (
        f"resource appears twice, first at "
        f"deployment.resources[{resources.index(role)}]"
    )


def test_invalid_policy_problem_masks_external_id(export) -> None:
    changed = copy.deepcopy(export)
    role = resource(changed, "payments-prod-PartnerAuditRole")
    role["outputs"]["assumeRolePolicy"] = json.dumps(
        {
            "Statement": [
                {
                    "Condition": {"StringEquals": {"sts:ExternalId": REAL_EXTERNAL_ID}},
                    "Effect": "Allow",
                    "Principal": "arn:aws:iam::777788889999:root",
                    "Action": "sts:AssumeRole",
                }
            ]
        }
    )
    with pytest.raises(ConfigError) as raised:
        stored_state.from_export(changed, "fixture")
    [problem] = raised.value.problems
    assert problem.message.startswith("invalid policy: ")
    assert REAL_EXTERNAL_ID not in problem.render()
    assert "[secret]" in problem.found
