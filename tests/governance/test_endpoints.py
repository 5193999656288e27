"""The endpoint plan: service names, types, zones, security group and policies."""

from __future__ import annotations

import copy
import json
from typing import Any

from governance import config, policy
from governance.endpoints import NetworkPlan
from governance.plan import plan_organization
from tests.conftest import PROD_SECRET_KEYS

ORGANIZATION_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowOrganizationPrincipals",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-7k2m9x4q1z"}},
        }
    ],
}


def networks(values: dict[str, Any]) -> dict[str, NetworkPlan]:
    plan = plan_organization(
        config.load(values, PROD_SECRET_KEYS), "org-governance", "prod"
    )
    return {
        account.name: account.network
        for account in plan.accounts
        if account.network is not None
    }


def test_networked_accounts(prod_values: dict[str, Any]) -> None:
    assert sorted(networks(prod_values)) == [
        "orders-prod",
        "orders-staging",
        "payments-dev",
        "payments-prod",
        "payments-staging",
        "shared-services",
    ]


def test_service_names_follow_region(prod_values: dict[str, Any]) -> None:
    prod_values["accounts"][9]["network"] = {
        "newVpc": {
            "cidr": "10.90.0.0/16",
            "subnets": [
                {"availabilityZone": "us-east-1a"},
                {"availabilityZone": "us-east-1b"},
            ],
        },
        "endpoints": ["s3", "ecr.dkr"],
    }
    plans = networks(prod_values)
    sandbox = {e.name: e.service_name for e in plans["sandbox"].endpoints}
    shared = {e.name: e.service_name for e in plans["shared-services"].endpoints}
    assert sandbox == {
        "ecr.dkr": "com.amazonaws.us-east-1.ecr.dkr",
        "s3": "com.amazonaws.us-east-1.s3",
    }
    assert shared == {
        "dynamodb": "com.amazonaws.eu-west-1.dynamodb",
        "logs": "com.amazonaws.eu-west-1.logs",
        "s3": "com.amazonaws.eu-west-1.s3",
        "secretsmanager": "com.amazonaws.eu-west-1.secretsmanager",
        "ssm": "com.amazonaws.eu-west-1.ssm",
        "sts": "com.amazonaws.eu-west-1.sts",
    }


def test_gateway_and_interface_defaults(prod_values: dict[str, Any]) -> None:
    plan = networks(prod_values)["shared-services"]
    by_name = {endpoint.name: endpoint for endpoint in plan.endpoints}
    for name in ("s3", "dynamodb"):
        assert by_name[name].type == "Gateway"
        assert by_name[name].private_dns is False
        assert by_name[name].availability_zones == ()
    for name in ("sts", "logs", "ssm", "secretsmanager"):
        assert by_name[name].type == "Interface"
        assert by_name[name].private_dns is True
        assert by_name[name].availability_zones == (
            "eu-west-1a",
            "eu-west-1b",
            "eu-west-1c",
        )


def test_security_group_allows_vpc_https(prod_values: dict[str, Any]) -> None:
    group = networks(prod_values)["payments-prod"].security_group
    assert group is not None
    assert group.name == "vpc-endpoints-payments-prod"
    assert group.ingress_cidr == "10.20.0.0/16"
    assert group.port == 443


def test_no_security_group_without_interface(prod_values: dict[str, Any]) -> None:
    prod_values["accounts"][4]["network"]["endpoints"] = ["s3", "dynamodb"]
    assert networks(prod_values)["payments-prod"].security_group is None


def test_default_policy_allows_organization(prod_values: dict[str, Any]) -> None:
    for plan in networks(prod_values).values():
        for endpoint in plan.endpoints:
            if endpoint.name == "secretsmanager":
                continue
            assert endpoint.policy == policy.canonical(ORGANIZATION_ONLY)


def test_narrowed_policy_keeps_organization(prod_values: dict[str, Any]) -> None:
    plan = networks(prod_values)["shared-services"]
    endpoint = next(e for e in plan.endpoints if e.name == "secretsmanager")
    assert json.loads(endpoint.policy_json) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowOrganizationPrincipals",
                "Effect": "Allow",
                "Principal": "*",
                "Action": [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-7k2m9x4q1z"}},
            }
        ],
    }


def test_new_vpc_subnets_carved(prod_values: dict[str, Any]) -> None:
    plan = networks(prod_values)["payments-dev"]
    assert plan.creates_vpc
    assert plan.cidr == "10.40.0.0/16"
    assert [(s.availability_zone, s.cidr, s.id) for s in plan.subnets] == [
        ("eu-west-1a", "10.40.0.0/20", None),
        ("eu-west-1b", "10.40.16.0/20", None),
    ]
    assert plan.route_table_ids == ()


def test_inbound_only_dns_beside_gateway(prod_values: dict[str, Any]) -> None:
    prod_values["accounts"][2]["network"]["endpoints"].append(
        {"service": "s3", "name": "s3-onprem", "type": "Interface"}
    )
    plan = networks(prod_values)["shared-services"]
    by_name = {endpoint.name: endpoint for endpoint in plan.endpoints}
    assert by_name["s3-onprem"].private_dns_only_for_inbound_resolver_endpoint
    assert not by_name["sts"].private_dns_only_for_inbound_resolver_endpoint
    assert by_name["s3-onprem"].service_name == "com.amazonaws.eu-west-1.s3"


def test_plan_ignores_entry_order(prod_values: dict[str, Any]) -> None:
    reordered = copy.deepcopy(prod_values)
    reordered["accounts"].reverse()
    shared = next(a for a in reordered["accounts"] if a["name"] == "shared-services")
    shared["network"]["endpoints"].reverse()
    shared["network"]["existingVpc"]["subnets"].reverse()
    dev = next(a for a in reordered["accounts"] if a["name"] == "payments-dev")
    dev["network"]["newVpc"]["subnets"].reverse()
    secrets = shared["network"]["endpoints"][0]
    secrets["policy"]["actions"].reverse()
    assert networks(reordered) == networks(prod_values)
