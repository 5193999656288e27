"""Helpers shared by the policy review tests: policy sets from stack values."""

from __future__ import annotations

from typing import Any

from governance import config, snapshot
from governance.plan import plan_organization
from governance.policy_set import PolicySet
from tests.conftest import PROD_SECRET_KEYS, PROJECT_DIR

FIXTURES = PROJECT_DIR / "tests" / "fixtures" / "review"
SMALL_STACK = FIXTURES / "Pulumi.small.yaml"
STACK_EXPORT = FIXTURES / "stack-export.json"
SNAPSHOT_DIR = PROJECT_DIR / "policies" / "prod"


def policies(values: dict[str, Any], source: str = "test") -> PolicySet:
    """Plan stack values and collect their policy set, as the commands do."""
    organization = config.load(values, PROD_SECRET_KEYS, PROJECT_DIR)
    plan = plan_organization(organization, "org-governance", "prod")
    return snapshot.from_plan(plan, organization.trust_policy_length, source)


def role(values: dict[str, Any], name: str) -> dict[str, Any]:
    """Return the execution role definition of that name, to change it in place."""
    return next(item for item in values["executionRoles"] if item["name"] == name)


def account(values: dict[str, Any], name: str) -> dict[str, Any]:
    """Return the account entry of that name, to change it in place."""
    return next(item for item in values["accounts"] if item["name"] == name)


def layer(values: dict[str, Any], name: str) -> dict[str, Any]:
    """Return the layer entry of that name, to change it in place."""
    return next(item for item in values["layers"] if item["name"] == name)


def trust_one_more_account(values: dict[str, Any]) -> None:
    """Trust the Lambda execution role of orders-prod in CrossAccountLambdaRole."""
    role(values, "CrossAccountLambdaRole")["trustedPrincipals"].append(
        {"account": "orders-prod", "roles": ["service-role/orders-lambda-execution"]}
    )


def drop_external_id(values: dict[str, Any]) -> None:
    """Remove the external id of CrossAccountLambdaRole."""
    del role(values, "CrossAccountLambdaRole")["externalId"]


def share_layer_with_another_unit(values: dict[str, Any]) -> None:
    """Share workload-retry with workloads-staging as well as workloads-prod."""
    layer(values, "workload-retry")["sharedWith"]["organizationalUnits"].append(
        "workloads-staging"
    )
