"""The monthly cost estimate of interface endpoints, computed from the plan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from governance import config
from governance.endpoint_costs import (
    HOURLY_PRICE_USD,
    HOURS_PER_MONTH,
    CostEstimate,
    estimate_costs,
    hourly_price,
)
from governance.plan import plan_organization
from tests.conftest import PROD_SECRET_KEYS


def estimate(values: dict[str, Any]) -> CostEstimate:
    return estimate_costs(
        plan_organization(
            config.load(values, PROD_SECRET_KEYS), "org-governance", "prod"
        )
    )


def test_prod_costs_per_account(prod_values: dict[str, Any]) -> None:
    costs = {
        cost.account_name: cost.monthly_usd for cost in estimate(prod_values).accounts
    }
    # Two interface endpoints (sts, logs) in two zones: 2 x 2 x 730 x $0.010.
    two_by_two = Decimal("29.20")
    assert costs == {
        "orders-prod": two_by_two,
        "orders-staging": two_by_two,
        "payments-dev": two_by_two,
        "payments-prod": two_by_two,
        "payments-staging": two_by_two,
        # Four interface endpoints in three zones: 4 x 3 x 730 x $0.010.
        "shared-services": Decimal("87.60"),
    }


def test_prod_total(prod_values: dict[str, Any]) -> None:
    assert estimate(prod_values).monthly_usd == Decimal("233.60")


def test_gateway_endpoints_free(prod_values: dict[str, Any]) -> None:
    for account in estimate(prod_values).accounts:
        for cost in account.endpoints:
            if cost.endpoint.type == "Gateway":
                assert cost.monthly_usd == Decimal("0.00"), cost.endpoint.name
            else:
                assert cost.monthly_usd > 0, cost.endpoint.name


def test_endpoint_cost_formula(prod_values: dict[str, Any]) -> None:
    shared = next(
        account
        for account in estimate(prod_values).accounts
        if account.account_name == "shared-services"
    )
    sts = next(cost for cost in shared.endpoints if cost.endpoint.name == "sts")
    expected = shared.hourly_price_usd * 3 * HOURS_PER_MONTH
    assert sts.monthly_usd == expected


def test_region_missing_from_table() -> None:
    assert "eu-west-1" not in HOURLY_PRICE_USD
    assert hourly_price("eu-west-1") == (Decimal("0.010"), "us-east-1")
    assert hourly_price("us-east-1") == (Decimal("0.010"), "us-east-1")


def test_account_without_network_omitted(prod_values: dict[str, Any]) -> None:
    names = [cost.account_name for cost in estimate(prod_values).accounts]
    assert "sandbox" not in names
    assert "security-audit" not in names


def test_costs_json_shape(prod_values: dict[str, Any]) -> None:
    document = estimate(prod_values).as_json()
    assert document["currency"] == "USD"
    assert document["hoursPerMonth"] == 730
    assert document["totalMonthlyUsd"] == 233.6
    assert "estimate" in document["basis"]
    payments = document["accounts"]["payments-prod"]
    assert payments["accountId"] == "012345678901"
    assert payments["region"] == "eu-west-1"
    assert payments["priceRegion"] == "us-east-1"
    assert payments["interfaceEndpoints"] == 2
    assert payments["gatewayEndpoints"] == 2
    assert payments["monthlyUsd"] == 29.2
    assert payments["endpoints"][0] == {
        "name": "dynamodb",
        "serviceName": "com.amazonaws.eu-west-1.dynamodb",
        "type": "Gateway",
        "availabilityZones": 0,
        "monthlyUsd": 0.0,
    }
