"""Budget plan: names, amounts, the alarm topic's policy and anomaly detection."""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any

import botocore.loaders
import pytest

from governance import aws_formats, config, policy
from governance.budget_plan import (
    ACCOUNT_BUDGET_KEY,
    budget_name,
    format_amount,
    plan_account_budget,
    topic_policy,
)
from governance.budgets import AccountBudget, Notification
from governance.plan import plan_organization
from tests.conftest import PROD_SECRET_KEYS

ACCOUNT = "012345678901"
NOTIFICATION = Notification(
    "ACTUAL", "GREATER_THAN", 80.0, "PERCENTAGE", ("finops@example.com",), True
)


def _budget_name_shape() -> dict[str, Any]:
    model = botocore.loaders.create_loader().load_service_model("budgets", "service-2")
    return model["shapes"]["BudgetName"]


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("5000"), "5000"),
        (Decimal("1E+3"), "1000"),
        (Decimal("12.50"), "12.5"),
        (Decimal("0.1"), "0.1"),
    ],
)
def test_format_amount(amount: Decimal, text: str) -> None:
    assert format_amount(amount) == text


def test_budget_names() -> None:
    assert budget_name("payments-prod") == "payments-prod-monthly-cost"
    assert (
        budget_name("payments-prod", "AWS Lambda")
        == "payments-prod-lambda-monthly-cost"
    )
    assert (
        budget_name("payments-prod", "Amazon Simple Storage Service")
        == "payments-prod-s3-monthly-cost"
    )


def test_longest_budget_name_fits() -> None:
    shape = _budget_name_shape()
    longest_account = "a" * 32
    for service in aws_formats.COST_EXPLORER_SERVICES:
        name = budget_name(longest_account, service)
        assert len(name) <= shape["max"], name
        assert ":" not in name
        assert "\\" not in name


def test_service_short_names_unique() -> None:
    short_names = list(aws_formats.COST_EXPLORER_SERVICES.values())
    assert len(set(short_names)) == len(short_names)
    assert ACCOUNT_BUDGET_KEY not in short_names
    for short_name in short_names:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", short_name), short_name


def test_topic_policy_exact_text() -> None:
    document = topic_policy(
        ACCOUNT,
        f"arn:aws:sns:eu-west-1:{ACCOUNT}:payments-prod-budget-alarms",
        [f"arn:aws:budgets::{ACCOUNT}:budget/payments-prod-monthly-cost"],
    )
    assert policy.to_json(document) == (
        '{"Version":"2012-10-17","Statement":[{"Sid":'
        '"AllowThisAccountsBudgetsToPublish","Effect":"Allow","Principal":'
        '{"Service":"budgets.amazonaws.com"},"Action":"SNS:Publish","Resource":'
        '"arn:aws:sns:eu-west-1:012345678901:payments-prod-budget-alarms",'
        '"Condition":{"ArnLike":{"aws:SourceArn":'
        '"arn:aws:budgets::012345678901:budget/payments-prod-monthly-cost"},'
        '"StringEquals":{"aws:SourceAccount":"012345678901"}}}]}'
    )


def test_account_budget_plan() -> None:
    settings = AccountBudget(
        limit_usd=Decimal("20000"),
        notifications=(NOTIFICATION,),
        services=(),
    )
    plan = plan_account_budget("payments-prod", ACCOUNT, "eu-west-1", "aws", settings)
    assert plan.topic_name == "payments-prod-budget-alarms"
    assert plan.topic_arn == (
        "arn:aws:sns:eu-west-1:012345678901:payments-prod-budget-alarms"
    )
    [budget] = plan.budgets
    assert budget.key == ACCOUNT_BUDGET_KEY
    assert budget.name == "payments-prod-monthly-cost"
    assert budget.arn == (
        "arn:aws:budgets::012345678901:budget/payments-prod-monthly-cost"
    )
    assert budget.account_id == ACCOUNT
    assert budget.limit_amount == "20000"
    assert budget.service is None
    assert budget.notifications == (NOTIFICATION,)


def test_arns_follow_the_partition() -> None:
    settings = AccountBudget(Decimal(10), (NOTIFICATION,), ())
    plan = plan_account_budget("china", ACCOUNT, "cn-north-1", "aws-cn", settings)
    assert (
        plan.topic_arn == "arn:aws-cn:sns:cn-north-1:012345678901:china-budget-alarms"
    )
    assert plan.account_budget.arn == (
        "arn:aws-cn:budgets::012345678901:budget/china-monthly-cost"
    )


def test_prod_topic_policies_confined(prod_values: dict[str, Any]) -> None:
    plan = plan_organization(
        config.load(prod_values, PROD_SECRET_KEYS), "org-governance", "prod"
    )
    for account in plan.accounts:
        assert account.budget is not None, account.name
        [statement] = account.budget.topic_policy["Statement"]
        assert statement["Principal"] == {"Service": "budgets.amazonaws.com"}
        assert statement["Action"] == "SNS:Publish"
        assert statement["Resource"] == account.budget.topic_arn
        condition = statement["Condition"]
        assert condition["StringEquals"] == {"aws:SourceAccount": account.account_id}
        arns = condition["ArnLike"]["aws:SourceArn"]
        expected = sorted(budget.arn for budget in account.budget.budgets)
        assert (arns if isinstance(arns, list) else [arns]) == expected
        for arn in expected:
            assert arn.startswith(f"arn:aws:budgets::{account.account_id}:budget/")


def test_plan_ignores_entry_order(prod_values: dict[str, Any]) -> None:
    reordered = copy.deepcopy(prod_values)
    reordered["accounts"].reverse()
    reordered["organization"]["budget"]["emails"].reverse()
    first = plan_organization(
        config.load(prod_values, PROD_SECRET_KEYS), "org-governance", "prod"
    )
    second = plan_organization(
        config.load(reordered, PROD_SECRET_KEYS), "org-governance", "prod"
    )
    assert first == second
    texts = [
        policy.to_json(account.budget.topic_policy)
        for account in first.accounts
        if account.budget
    ]
    assert texts == [
        policy.to_json(account.budget.topic_policy)
        for account in second.accounts
        if account.budget
    ]


def test_anomaly_detection_plan(prod_values: dict[str, Any]) -> None:
    plan = plan_organization(
        config.load(prod_values, PROD_SECRET_KEYS), "org-governance", "prod"
    )
    anomaly = plan.anomaly_detection
    assert anomaly is not None
    assert anomaly.monitor_name == "org-governance-prod-linked-accounts"
    assert anomaly.subscription_name == "org-governance-prod-cost-anomalies"
    assert anomaly.threshold_usd == "100"
    assert anomaly.frequency == "DAILY"
    assert anomaly.emails == ("finops@example.com", "platform-team@example.com")
