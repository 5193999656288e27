"""Budgets and alarm topics created on moto from the arguments the program sends.

The program's resource inputs, recorded by the offline preview, are turned into
the AWS API requests the provider would make. Each account's topic and budgets are
created in that account through an assumed role, as the account's provider does,
and read back. The anomaly monitor and subscription are checked against the Cost
Explorer API model only, because moto 5.2.5 does not implement them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.loaders
import botocore.model
import pytest
from botocore.validate import ParamValidator
from moto import mock_aws
from moto.budgets.models import budgets_backends

from governance import policy
from governance.preview import PreviewResult, RecordedResource, run_program
from governance.stack_config import StackConfig
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.emulator

BUDGET = "aws:budgets/budget:Budget"
TOPIC = "aws:sns/topic:Topic"
MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
ROLE_NAME = "OrganizationAccountAccessRole"


@pytest.fixture(scope="module")
def prod_preview(prod_stack: StackConfig) -> PreviewResult:
    return run_program(PROJECT_DIR, prod_stack)


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # mock_aws intercepts every call, and fake credentials keep real ones out.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    for key in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        yield


def account_session(account_id: str, region: str) -> boto3.Session:
    """Assume the deployment role of an account, as its provider does."""
    credentials = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE_NAME}",
        RoleSessionName="org-governance-prod",
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def notification_of(inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "NotificationType": inputs["notificationType"],
        "ComparisonOperator": inputs["comparisonOperator"],
        "Threshold": float(inputs["threshold"]),
        "ThresholdType": inputs["thresholdType"],
    }


def subscribers_of(inputs: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"SubscriptionType": "EMAIL", "Address": address}
        for address in inputs.get("subscriberEmailAddresses", [])
    ] + [
        {"SubscriptionType": "SNS", "Address": arn}
        for arn in inputs.get("subscriberSnsTopicArns", [])
    ]


def create_budget_request(inputs: dict[str, Any]) -> dict[str, Any]:
    """Translate a Budget resource's inputs into the CreateBudget request."""
    budget: dict[str, Any] = {
        "BudgetName": inputs["name"],
        "BudgetLimit": {"Amount": inputs["limitAmount"], "Unit": inputs["limitUnit"]},
        "TimeUnit": inputs["timeUnit"],
        "BudgetType": inputs["budgetType"],
    }
    if "costFilters" in inputs:
        budget["CostFilters"] = {
            cost_filter["name"]: cost_filter["values"]
            for cost_filter in inputs["costFilters"]
        }
    return {
        "AccountId": inputs["accountId"],
        "Budget": budget,
        "NotificationsWithSubscribers": [
            {
                "Notification": notification_of(notification),
                "Subscribers": subscribers_of(notification),
            }
            for notification in inputs["notifications"]
        ],
    }


def by_account(result: PreviewResult, type_token: str) -> dict[str, list[Any]]:
    grouped: dict[str, list[RecordedResource]] = {}
    for resource in result.resources:
        if resource.type == type_token:
            assert resource.account is not None, resource.name
            grouped.setdefault(resource.account, []).append(resource)
    return grouped


def regions(result: PreviewResult) -> dict[str, str]:
    return {
        account["id"]: account["region"]
        for account in result.outputs["accounts"].values()
    }


def test_topics_and_budgets_round_trip(
    prod_preview: PreviewResult, emulator: None
) -> None:
    topics = by_account(prod_preview, TOPIC)
    budgets = by_account(prod_preview, BUDGET)
    assert set(topics) == set(budgets)
    assert len(topics) == 10
    for account_id, region in sorted(regions(prod_preview).items()):
        session = account_session(account_id, region)
        assert session.client("sts").get_caller_identity()["Account"] == account_id

        [topic] = topics[account_id]
        sns = session.client("sns")
        created = sns.create_topic(
            Name=topic.inputs["name"],
            Attributes={"Policy": topic.inputs["policy"]},
        )["TopicArn"]
        stored = sns.get_topic_attributes(TopicArn=created)["Attributes"]["Policy"]
        expected = policy.parse(topic.inputs["policy"])
        assert policy.equivalent(policy.parse(stored), expected)
        assert expected["Statement"][0]["Resource"] == created

        client = session.client("budgets", region_name="us-east-1")
        for budget in budgets[account_id]:
            request = create_budget_request(budget.inputs)
            # A member account's budget covers its own spend: the request names
            # the account the role acts in.
            assert request["AccountId"] == account_id
            for entry in request["NotificationsWithSubscribers"]:
                sns_subscribers = [
                    subscriber["Address"]
                    for subscriber in entry["Subscribers"]
                    if subscriber["SubscriptionType"] == "SNS"
                ]
                assert sns_subscribers == [created]
            client.create_budget(**request)
            check_budget_read_back(client, account_id, request)


def check_budget_read_back(
    client: Any, account_id: str, request: dict[str, Any]
) -> None:
    name = request["Budget"]["BudgetName"]
    read = client.describe_budget(AccountId=account_id, BudgetName=name)["Budget"]
    for key, value in request["Budget"].items():
        assert read[key] == value, (name, key)
    notifications = client.describe_notifications_for_budget(
        AccountId=account_id, BudgetName=name
    )["Notifications"]
    sent = request["NotificationsWithSubscribers"]
    assert notifications == [entry["Notification"] for entry in sent]
    # NOTE: moto 5.2.5 does not implement DescribeSubscribersForNotification, so the
    # subscribers are read from the emulator's stored budget instead.
    stored = budgets_backends[account_id]["aws"].budgets[account_id][name]
    assert [item.subscribers for item in stored.notifications] == [
        entry["Subscribers"] for entry in sent
    ]


def test_budget_requests_match_api_model(prod_preview: PreviewResult) -> None:
    model = botocore.loaders.create_loader().load_service_model("budgets", "service-2")
    shapes = model["shapes"]
    validator = ParamValidator()
    service_model = botocore.model.ServiceModel(model, "budgets")
    operation = service_model.operation_model("CreateBudget")
    for budgets in by_account(prod_preview, BUDGET).values():
        for budget in budgets:
            request = create_budget_request(budget.inputs)
            report = validator.validate(request, operation.input_shape)
            assert not report.has_errors(), report.generate_report()
            assert len(request["NotificationsWithSubscribers"]) <= 10
            assert request["Budget"]["BudgetType"] in shapes["BudgetType"]["enum"]
            assert request["Budget"]["TimeUnit"] in shapes["TimeUnit"]["enum"]
            for entry in request["NotificationsWithSubscribers"]:
                notification = entry["Notification"]
                assert len(entry["Subscribers"]) <= shapes["Subscribers"]["max"]
                assert (
                    notification["ComparisonOperator"]
                    in shapes["ComparisonOperator"]["enum"]
                )
                assert (
                    notification["NotificationType"]
                    in shapes["NotificationType"]["enum"]
                )
                assert notification["ThresholdType"] in shapes["ThresholdType"]["enum"]


def test_anomaly_requests_match_api_model(prod_preview: PreviewResult) -> None:
    model = botocore.loaders.create_loader().load_service_model("ce", "service-2")
    service_model = botocore.model.ServiceModel(model, "ce")
    shapes = model["shapes"]
    validator = ParamValidator()
    [monitor] = [r for r in prod_preview.resources if r.type == MONITOR]
    monitor_request = {
        "AnomalyMonitor": {
            "MonitorName": monitor.inputs["name"],
            "MonitorType": monitor.inputs["monitorType"],
            "MonitorDimension": monitor.inputs["monitorDimension"],
        }
    }
    report = validator.validate(
        monitor_request,
        service_model.operation_model("CreateAnomalyMonitor").input_shape,
    )
    assert not report.has_errors(), report.generate_report()
    assert monitor.inputs["monitorType"] in shapes["MonitorType"]["enum"]
    assert monitor.inputs["monitorDimension"] in shapes["MonitorDimension"]["enum"]

    [subscription] = [r for r in prod_preview.resources if r.type == SUBSCRIPTION]
    inputs = subscription.inputs
    dimension = inputs["thresholdExpression"]["dimension"]
    subscription_request = {
        "AnomalySubscription": {
            "SubscriptionName": inputs["name"],
            "MonitorArnList": inputs["monitorArnLists"],
            "Subscribers": [
                {"Address": item["address"], "Type": item["type"]}
                for item in inputs["subscribers"]
            ],
            "Frequency": inputs["frequency"],
            "ThresholdExpression": {
                "Dimensions": {
                    "Key": dimension["key"],
                    "MatchOptions": dimension["matchOptions"],
                    "Values": dimension["values"],
                }
            },
        }
    }
    report = validator.validate(
        subscription_request,
        service_model.operation_model("CreateAnomalySubscription").input_shape,
    )
    assert not report.has_errors(), report.generate_report()
    assert inputs["frequency"] in shapes["AnomalySubscriptionFrequency"]["enum"]
    for subscriber in inputs["subscribers"]:
        assert subscriber["type"] in shapes["SubscriberType"]["enum"]
    assert dimension["key"] in shapes["Dimension"]["enum"]
    assert set(dimension["matchOptions"]) <= set(shapes["MatchOption"]["enum"])
