"""Budgets and anomaly alerts in the real program, under the mock engine."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from governance import policy
from governance.preview import PreviewResult, RecordedResource, run_program
from governance.stack_config import StackConfig
from tests.conftest import PROJECT_DIR

BUDGET = "aws:budgets/budget:Budget"
TOPIC = "aws:sns/topic:Topic"
MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
MANAGEMENT = "900000000001"
DEFAULT_EMAILS = ["finops@example.com", "platform-team@example.com"]


@pytest.fixture(scope="module")
def prod_preview(prod_stack: StackConfig) -> PreviewResult:
    return run_program(PROJECT_DIR, prod_stack)


def of_type(result: PreviewResult, type_token: str) -> list[RecordedResource]:
    return [resource for resource in result.resources if resource.type == type_token]


def in_account(
    result: PreviewResult, type_token: str, account: str
) -> list[RecordedResource]:
    return [
        resource
        for resource in of_type(result, type_token)
        if resource.account == account
    ]


def topic_arn(account: dict[str, Any]) -> str:
    region = account.get("region", "eu-west-1")
    return f"arn:aws:sns:{region}:{account['id']}:{account['name']}-budget-alarms"


def test_budget_per_account(prod_preview: PreviewResult, prod_stack) -> None:
    for account in prod_stack.values["accounts"]:
        budgets = {
            resource.inputs["name"]: resource
            for resource in in_account(prod_preview, BUDGET, account["id"])
        }
        name = f"{account['name']}-monthly-cost"
        assert name in budgets, sorted(budgets)
        budget = budgets[name]
        assert budget.provider_name == account["name"]
        assert budget.inputs["accountId"] == account["id"]
        assert budget.inputs["budgetType"] == "COST"
        assert budget.inputs["timeUnit"] == "MONTHLY"
        assert budget.inputs["limitUnit"] == "USD"
        assert "costFilters" not in budget.inputs
        assert "timePeriodStart" not in budget.inputs


def test_default_notifications(prod_preview: PreviewResult) -> None:
    [budget] = in_account(prod_preview, BUDGET, "507654321098")
    topic = "arn:aws:sns:eu-west-1:507654321098:network-budget-alarms"
    assert budget.inputs["limitAmount"] == "5000"
    assert budget.inputs["notifications"] == [
        {
            "comparisonOperator": "GREATER_THAN",
            "notificationType": notification_type,
            "subscriberEmailAddresses": DEFAULT_EMAILS,
            "subscriberSnsTopicArns": [topic],
            "threshold": threshold,
            "thresholdType": "PERCENTAGE",
        }
        for notification_type, threshold in (
            ("ACTUAL", 80),
            ("ACTUAL", 100),
            ("FORECASTED", 100),
        )
    ]


def test_sandbox_lower_limit(prod_preview: PreviewResult) -> None:
    [budget] = in_account(prod_preview, BUDGET, "567890123456")
    assert budget.inputs["limitAmount"] == "200"
    for notification in budget.inputs["notifications"]:
        assert notification["subscriberEmailAddresses"] == [
            "finops@example.com",
            "sandbox-owners@example.com",
        ]


def test_lambda_budget_on_payments_prod(prod_preview: PreviewResult) -> None:
    budgets = {
        resource.inputs["name"]: resource.inputs
        for resource in in_account(prod_preview, BUDGET, "012345678901")
    }
    assert sorted(budgets) == [
        "payments-prod-lambda-monthly-cost",
        "payments-prod-monthly-cost",
    ]
    lambda_budget = budgets["payments-prod-lambda-monthly-cost"]
    assert lambda_budget["limitAmount"] == "2000"
    assert lambda_budget["costFilters"] == [
        {"name": "Service", "values": ["AWS Lambda"]}
    ]
    thresholds = [
        (item["notificationType"], item["threshold"])
        for item in lambda_budget["notifications"]
    ]
    assert thresholds == [("ACTUAL", 50), ("ACTUAL", 100), ("FORECASTED", 100)]
    assert budgets["payments-prod-monthly-cost"]["limitAmount"] == "20000"


def test_topic_policy_confined(prod_preview: PreviewResult, prod_stack) -> None:
    for account in prod_stack.values["accounts"]:
        [topic] = in_account(prod_preview, TOPIC, account["id"])
        assert topic.provider_name == account["name"]
        arn = topic_arn(account)
        budget_arns = sorted(
            f"arn:aws:budgets::{account['id']}:budget/{resource.inputs['name']}"
            for resource in in_account(prod_preview, BUDGET, account["id"])
        )
        expected = policy.policy(
            {
                "Sid": "AllowThisAccountsBudgetsToPublish",
                "Effect": "Allow",
                "Principal": {"Service": "budgets.amazonaws.com"},
                "Action": "SNS:Publish",
                "Resource": arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account["id"]},
                    "ArnLike": {"aws:SourceArn": budget_arns},
                },
            }
        )
        assert topic.inputs["name"] == f"{account['name']}-budget-alarms"
        assert policy.parse(topic.inputs["policy"]) == expected


def test_budgets_notify_own_topic(prod_preview: PreviewResult, prod_stack) -> None:
    for account in prod_stack.values["accounts"]:
        for budget in in_account(prod_preview, BUDGET, account["id"]):
            for notification in budget.inputs["notifications"]:
                assert notification["subscriberSnsTopicArns"] == [topic_arn(account)]


def test_budget_children_of_component(prod_preview: PreviewResult) -> None:
    components = {
        resource.urn: resource
        for resource in of_type(prod_preview, "org-governance:budget:AccountBudget")
    }
    assert len(components) == 10
    for type_token in (BUDGET, TOPIC):
        for resource in of_type(prod_preview, type_token):
            parent = components[resource.parent or ""]
            assert resource.name.startswith(f"{parent.name}-")
            assert parent.parent is not None
            assert parent.parent.endswith(f"::{parent.name.removesuffix('-budget')}")


def test_anomaly_monitor_in_management(prod_preview: PreviewResult) -> None:
    [monitor] = of_type(prod_preview, MONITOR)
    assert monitor.account == MANAGEMENT
    assert monitor.provider_name == "management"
    assert monitor.inputs == {
        "monitorDimension": "LINKED_ACCOUNT",
        "monitorType": "DIMENSIONAL",
        "name": "org-governance-prod-linked-accounts",
    }
    [subscription] = of_type(prod_preview, SUBSCRIPTION)
    assert subscription.account == MANAGEMENT
    inputs = subscription.inputs
    assert inputs["frequency"] == "DAILY"
    assert inputs["monitorArnLists"] == [
        prod_preview.outputs["costAnomalyDetection"]["monitorArn"]
    ]
    assert inputs["subscribers"] == [
        {"address": email, "type": "EMAIL"} for email in DEFAULT_EMAILS
    ]
    assert inputs["thresholdExpression"] == {
        "dimension": {
            "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
            "matchOptions": ["GREATER_THAN_OR_EQUAL"],
            "values": ["100"],
        }
    }


def test_budget_outputs_per_account(prod_preview: PreviewResult, prod_stack) -> None:
    outputs = prod_preview.outputs["accounts"]
    for account in prod_stack.values["accounts"]:
        budget = outputs[account["name"]]["budget"]
        assert budget["name"] == f"{account['name']}-monthly-cost"
        assert budget["topicArn"] == topic_arn(account)
    assert outputs["payments-prod"]["budget"]["serviceBudgets"] == {
        "AWS Lambda": "payments-prod-lambda-monthly-cost"
    }


def test_invalid_budget_registers_nothing(prod_stack: StackConfig) -> None:
    values = copy.deepcopy(prod_stack.values)
    values["organization"]["budget"]["limitUsd"] = 0
    result = run_program(PROJECT_DIR, dataclasses.replace(prod_stack, values=values))
    assert result.exit_code == 2
    assert result.resources == []
    assert (
        "organization.budget.limitUsd: limitUsd must be greater than 0" in result.stderr
    )


def test_without_budgets(prod_stack: StackConfig) -> None:
    values = copy.deepcopy(prod_stack.values)
    del values["organization"]["budget"]
    for account in values["accounts"]:
        account.pop("budget", None)
    result = run_program(PROJECT_DIR, dataclasses.replace(prod_stack, values=values))
    assert result.exit_code == 0
    types = {resource.type for resource in result.resources}
    assert BUDGET not in types
    assert MONITOR not in types
    assert "costAnomalyDetection" not in result.outputs
    assert "budget" not in result.outputs["accounts"]["sandbox"]
