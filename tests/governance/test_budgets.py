"""Budget configuration: each invalid input's exact problem, defaults and overrides."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from governance import config
from governance.budgets import Notification
from governance.problems import ConfigError, Problem
from tests.changes import (
    Change,
    append,
    case_params,
    delete_key,
    problems_after,
    set_key,
)
from tests.conftest import PROD_SECRET_KEYS

THRESHOLD_ALLOWED = (
    "a number from 0.01 to 15,000,000,000,000 with at most 2 decimal places, "
    "for example 80"
)
LIMIT_ALLOWED = (
    "a number from 0.01 to 15,000,000,000,000 with at most 2 decimal places, "
    "for example 1000"
)
ANOMALY_ALLOWED = (
    "a number from 0.01 to 10,000,000,000 with at most 2 decimal places, "
    "for example 100"
)
EMAIL_ALLOWED = (
    "an email address of ASCII characters, for example aws+payments@example.com"
)
EMAILS_ALLOWED = "at most 10 distinct email addresses"
NON_ASCII_CYRILLIC_A = (
    "email address contains the non-ASCII character '\u0430' "
    "(U+0430 CYRILLIC SMALL LETTER A); addresses must be ASCII, because a "
    "look-alike letter can point an address at another domain"
)
NON_ASCII_FIX = (
    "retype the address in ASCII; write an internationalized domain in its xn-- "
    "(punycode) form"
)
LIMIT_OVER = "limitUsd is over the maximum budget limit this program accepts"
DIGITS_400 = int("9" * 400)
# show() cuts a value at 120 characters.
DIGITS_400_SHOWN = "9" * 117 + "..."
ELEVEN_EMAILS = [f"team{index}@example.com" for index in range(11)]
# Index of payments-prod, whose budget has a Lambda budget, and of sandbox.
PAYMENTS_PROD = 4
SANDBOX = 9


def org_notifications(*notifications: dict[str, Any]) -> Change:
    return set_key("organization.budget.notifications", list(notifications))


LAMBDA = f"accounts.{PAYMENTS_PROD}.budget.services.0"

INVALID_CASES: list[tuple[str, list[Change], list[Problem]]] = [
    (
        "threshold zero",
        [org_notifications({"notificationType": "ACTUAL", "threshold": 0})],
        [
            Problem(
                "organization.budget.notifications[0].threshold",
                "threshold must be greater than 0",
                "0",
                THRESHOLD_ALLOWED,
                "write a positive number",
            )
        ],
    ),
    (
        "threshold negative in a service budget",
        [set_key(f"{LAMBDA}.notifications.1.threshold", -10)],
        [
            Problem(
                "accounts[4].budget.services[0].notifications[1].threshold",
                "threshold must be greater than 0",
                "-10",
                THRESHOLD_ALLOWED,
                "write a positive number",
            )
        ],
    ),
    (
        "threshold written with a percent sign",
        [org_notifications({"notificationType": "ACTUAL", "threshold": "80%"})],
        [
            Problem(
                "organization.budget.notifications[0].threshold",
                "threshold is not a number",
                '"80%"',
                THRESHOLD_ALLOWED,
                "write the number without quotes, % or a currency, like 80",
            )
        ],
    ),
    (
        "threshold as boolean",
        [org_notifications({"notificationType": "ACTUAL", "threshold": True})],
        [
            Problem(
                "organization.budget.notifications[0].threshold",
                "threshold is not a number",
                "true",
                THRESHOLD_ALLOWED,
                "write the number without quotes, % or a currency, like 80",
            )
        ],
    ),
    (
        "threshold over the AWS maximum",
        [org_notifications({"notificationType": "ACTUAL", "threshold": 2 * 10**13})],
        [
            Problem(
                "organization.budget.notifications[0].threshold",
                "threshold is over the AWS maximum",
                "20000000000000",
                THRESHOLD_ALLOWED,
                "write a smaller number",
            )
        ],
    ),
    (
        "threshold of 400 digits",
        [org_notifications({"notificationType": "ACTUAL", "threshold": DIGITS_400})],
        [
            Problem(
                "organization.budget.notifications[0].threshold",
                "threshold is over the AWS maximum",
                DIGITS_400_SHOWN,
                THRESHOLD_ALLOWED,
                "write a smaller number",
            )
        ],
    ),
    (
        "threshold NaN",
        [org_notifications({"notificationType": "ACTUAL", "threshold": float("nan")})],
        [
            Problem(
                "organization.budget.notifications[0].threshold",
                "threshold is not a finite number",
                "NaN",
                THRESHOLD_ALLOWED,
                "write a number like 80",
            )
        ],
    ),
    (
        "threshold with 3 decimal places",
        [org_notifications({"notificationType": "ACTUAL", "threshold": 33.333})],
        [
            Problem(
                "organization.budget.notifications[0].threshold",
                "threshold has more than 2 decimal places",
                "33.333",
                THRESHOLD_ALLOWED,
                "round it to 2 decimal places (whole cents for an amount in USD)",
            )
        ],
    ),
    (
        "percentage over the AWS maximum",
        [
            set_key(
                f"{LAMBDA}.notifications.0",
                {"notificationType": "ACTUAL", "threshold": 1_000_000.01},
            )
        ],
        [
            Problem(
                "accounts[4].budget.services[0].notifications[0].threshold",
                "percentage threshold is over the AWS maximum",
                "1000000.01",
                "a percentage from 0.01 to 1,000,000",
                "write a smaller percentage, or set thresholdType: ABSOLUTE_VALUE "
                "for an amount in USD",
            )
        ],
    ),
    (
        "limit of 400 digits",
        [set_key("organization.budget.limitUsd", DIGITS_400)],
        [
            Problem(
                "organization.budget.limitUsd",
                LIMIT_OVER,
                DIGITS_400_SHOWN,
                LIMIT_ALLOWED,
                "write a smaller number",
            )
        ],
    ),
    (
        "limit of 5,000 digits",
        [set_key(f"{LAMBDA}.limitUsd", 10**5000)],
        [
            Problem(
                "accounts[4].budget.services[0].limitUsd",
                LIMIT_OVER,
                "int value too large to print",
                LIMIT_ALLOWED,
                "write a smaller number",
            )
        ],
    ),
    (
        "limit 1e300",
        [set_key("organization.budget.limitUsd", 1e300)],
        [
            Problem(
                "organization.budget.limitUsd",
                LIMIT_OVER,
                "1e+300",
                LIMIT_ALLOWED,
                "write a smaller number",
            )
        ],
    ),
    (
        "limit one cent over the maximum",
        [set_key("organization.budget.limitUsd", 15_000_000_000_000.01)],
        [
            Problem(
                "organization.budget.limitUsd",
                LIMIT_OVER,
                "15000000000000.01",
                LIMIT_ALLOWED,
                "write a smaller number",
            )
        ],
    ),
    (
        "limit 1e-300",
        [set_key(f"accounts.{SANDBOX}.budget.limitUsd", 1e-300)],
        [
            Problem(
                "accounts[9].budget.limitUsd",
                "limitUsd has more than 2 decimal places",
                "1e-300",
                LIMIT_ALLOWED,
                "round it to 2 decimal places (whole cents for an amount in USD)",
            )
        ],
    ),
    (
        "limit with a fraction of a cent",
        [set_key(f"accounts.{SANDBOX}.budget.limitUsd", 199.999)],
        [
            Problem(
                "accounts[9].budget.limitUsd",
                "limitUsd has more than 2 decimal places",
                "199.999",
                LIMIT_ALLOWED,
                "round it to 2 decimal places (whole cents for an amount in USD)",
            )
        ],
    ),
    (
        "limit infinite",
        [set_key("organization.budget.limitUsd", float("inf"))],
        [
            Problem(
                "organization.budget.limitUsd",
                "limitUsd is not a finite number",
                "Infinity",
                LIMIT_ALLOWED,
                "write a number like 1000",
            )
        ],
    ),
    (
        "limit as boolean",
        [set_key(f"{LAMBDA}.limitUsd", True)],
        [
            Problem(
                "accounts[4].budget.services[0].limitUsd",
                "limitUsd is not a number",
                "true",
                LIMIT_ALLOWED,
                "write the number without quotes, % or a currency, like 1000",
            )
        ],
    ),
    (
        "anomaly threshold of 400 digits",
        [set_key("organization.budget.anomalyDetection.thresholdUsd", DIGITS_400)],
        [
            Problem(
                "organization.budget.anomalyDetection.thresholdUsd",
                "thresholdUsd is over the AWS maximum",
                DIGITS_400_SHOWN,
                ANOMALY_ALLOWED,
                "write a smaller number",
            )
        ],
    ),
    (
        "anomaly threshold negative infinity",
        [set_key("organization.budget.anomalyDetection.thresholdUsd", float("-inf"))],
        [
            Problem(
                "organization.budget.anomalyDetection.thresholdUsd",
                "thresholdUsd is not a finite number",
                "-Infinity",
                ANOMALY_ALLOWED,
                "write a number like 100",
            )
        ],
    ),
    (
        "anomaly threshold with 3 decimal places",
        [set_key("organization.budget.anomalyDetection.thresholdUsd", 0.005)],
        [
            Problem(
                "organization.budget.anomalyDetection.thresholdUsd",
                "thresholdUsd has more than 2 decimal places",
                "0.005",
                ANOMALY_ALLOWED,
                "round it to 2 decimal places (whole cents for an amount in USD)",
            )
        ],
    ),
    (
        "anomaly threshold as boolean",
        [set_key("organization.budget.anomalyDetection.thresholdUsd", False)],
        [
            Problem(
                "organization.budget.anomalyDetection.thresholdUsd",
                "thresholdUsd is not a number",
                "false",
                ANOMALY_ALLOWED,
                "write the number without quotes, % or a currency, like 100",
            )
        ],
    ),
    (
        "look-alike domain in budget emails",
        [set_key("organization.budget.emails", ["finops@ex\u0430mple.com"])],
        [
            Problem(
                "organization.budget.emails[0]",
                NON_ASCII_CYRILLIC_A,
                '"finops@ex\\u0430mple.com"',
                EMAIL_ALLOWED,
                NON_ASCII_FIX,
            )
        ],
    ),
    (
        "look-alike domain in notification emails",
        [set_key(f"{LAMBDA}.notifications.2.emails", ["oncall@ex\u0430mple.com"])],
        [
            Problem(
                "accounts[4].budget.services[0].notifications[2].emails[0]",
                NON_ASCII_CYRILLIC_A,
                '"oncall@ex\\u0430mple.com"',
                EMAIL_ALLOWED,
                NON_ASCII_FIX,
            )
        ],
    ),
    (
        "zero-width space in anomaly emails",
        [
            set_key(
                "organization.budget.anomalyDetection.emails",
                ["fin\u200bops@example.com"],
            )
        ],
        [
            Problem(
                "organization.budget.anomalyDetection.emails[0]",
                "email address contains the non-ASCII character '\\u200b' "
                "(U+200B ZERO WIDTH SPACE); addresses must be ASCII, because a "
                "look-alike letter can point an address at another domain",
                '"fin\\u200bops@example.com"',
                EMAIL_ALLOWED,
                NON_ASCII_FIX,
            )
        ],
    ),
    (
        "account limit zero",
        [set_key(f"accounts.{SANDBOX}.budget.limitUsd", 0)],
        [
            Problem(
                "accounts[9].budget.limitUsd",
                "limitUsd must be greater than 0",
                "0",
                LIMIT_ALLOWED,
                "write a positive number",
            )
        ],
    ),
    (
        "organization limit negative",
        [set_key("organization.budget.limitUsd", -5)],
        [
            Problem(
                "organization.budget.limitUsd",
                "limitUsd must be greater than 0",
                "-5",
                LIMIT_ALLOWED,
                "write a positive number",
            )
        ],
    ),
    (
        "limit with a currency",
        [set_key("organization.budget.limitUsd", "5000 USD")],
        [
            Problem(
                "organization.budget.limitUsd",
                "limitUsd is not a number",
                '"5000 USD"',
                LIMIT_ALLOWED,
                "write the number without quotes, % or a currency, like 1000",
            )
        ],
    ),
    (
        "service budget without limit",
        [delete_key(f"{LAMBDA}.limitUsd")],
        [
            Problem(
                "accounts[4].budget.services[0].limitUsd",
                "missing required key",
                "nothing",
                "a value",
                "add `limitUsd`",
            )
        ],
    ),
    (
        "limit missing after defaults",
        [
            delete_key("organization.budget"),
            set_key("accounts.0.budget", {"emails": ["security@example.com"]}),
        ],
        [
            Problem(
                "accounts[0].budget.limitUsd",
                "missing budget limit",
                "nothing",
                "a monthly limit in USD greater than 0",
                "add limitUsd to the account's budget or to organization.budget",
            )
        ],
    ),
    (
        "invalid email address",
        [
            set_key(
                "organization.budget.emails",
                ["finops@example.com", "platform-team.example.com"],
            )
        ],
        [
            Problem(
                "organization.budget.emails[1]",
                "invalid email address: An email address must have an @-sign.",
                '"platform-team.example.com"',
                EMAIL_ALLOWED,
                "correct it",
            )
        ],
    ),
    (
        "eleven emails on one notification",
        [set_key(f"{LAMBDA}.notifications.2.emails", ELEVEN_EMAILS)],
        [
            Problem(
                "accounts[4].budget.services[0].notifications[2].emails",
                "11 email addresses, but a budget notification sends to at most 10",
                '["team0@example.com", "team1@example.com", "team2@example.com", '
                '"team3@example.com", "team4@example.com", "team5@exam...',
                EMAILS_ALLOWED,
                "remove addresses, or send to a mailing list",
            )
        ],
    ),
    (
        "eleven emails on a budget",
        [set_key(f"accounts.{SANDBOX}.budget.emails", ELEVEN_EMAILS)],
        [
            Problem(
                "accounts[9].budget.emails",
                "11 email addresses, but a budget notification sends to at most 10",
                '["team0@example.com", "team1@example.com", "team2@example.com", '
                '"team3@example.com", "team4@example.com", "team5@exam...',
                EMAILS_ALLOWED,
                "remove addresses, or send to a mailing list",
            )
        ],
    ),
    (
        "duplicate email ignoring case",
        [
            set_key(
                "organization.budget.emails",
                ["finops@example.com", "FinOps@example.com"],
            )
        ],
        [
            Problem(
                "organization.budget.emails",
                "duplicate email address FinOps@example.com",
                '["finops@example.com", "FinOps@example.com"]',
                EMAILS_ALLOWED,
                "remove the second one",
            )
        ],
    ),
    (
        "eleven notifications",
        [
            org_notifications(
                *(
                    {"notificationType": "ACTUAL", "threshold": 10 * (index + 1)}
                    for index in range(11)
                )
            )
        ],
        [
            Problem(
                "organization.budget.notifications",
                "11 notifications, but a budget has at most 10",
                '[{"notificationType": "ACTUAL", "threshold": 10}, '
                '{"notificationType": "ACTUAL", "threshold": 20}, '
                '{"notificationType...',
                "1 to 10 notifications",
                "remove notifications, or merge those with the same threshold",
            )
        ],
    ),
    (
        "empty notification list",
        [set_key(f"accounts.{SANDBOX}.budget.notifications", [])],
        [
            Problem(
                "accounts[9].budget.notifications",
                "notification list is empty, so the budget would alert no one",
                "[]",
                "1 to 10 notifications",
                "add a notification, or leave out notifications for the defaults",
            )
        ],
    ),
    (
        "duplicate notification",
        [
            org_notifications(
                {"notificationType": "ACTUAL", "threshold": 80},
                {"notificationType": "FORECASTED", "threshold": 80},
                {
                    "notificationType": "ACTUAL",
                    "threshold": 80.0,
                    "emails": ["oncall@example.com"],
                },
            )
        ],
        [
            Problem(
                "organization.budget.notifications[2]",
                "duplicate notification",
                "notificationType ACTUAL, comparisonOperator GREATER_THAN, "
                "thresholdType PERCENTAGE, threshold 80",
                "notifications that differ in notificationType, comparisonOperator, "
                "thresholdType or threshold",
                "remove it, or merge its recipients into "
                "organization.budget.notifications[0]",
            )
        ],
    ),
    (
        "duplicate notification in a service budget",
        [
            append(
                f"{LAMBDA}.notifications",
                {"notificationType": "FORECASTED", "threshold": 100},
            )
        ],
        [
            Problem(
                "accounts[4].budget.services[0].notifications[3]",
                "duplicate notification",
                "notificationType FORECASTED, comparisonOperator GREATER_THAN, "
                "thresholdType PERCENTAGE, threshold 100",
                "notifications that differ in notificationType, comparisonOperator, "
                "thresholdType or threshold",
                "remove it, or merge its recipients into "
                "accounts[4].budget.services[0].notifications[2]",
            )
        ],
    ),
    (
        "two SNS topics on one notification",
        [
            org_notifications(
                {
                    "notificationType": "ACTUAL",
                    "threshold": 80,
                    "snsTopic": [
                        "arn:aws:sns:eu-west-1:012345678901:alarms",
                        "arn:aws:sns:eu-west-1:012345678901:pager",
                    ],
                }
            )
        ],
        [
            Problem(
                "organization.budget.notifications[0].snsTopic",
                "a notification publishes to at most 1 SNS topic, the account's "
                "budget topic",
                '["arn:aws:sns:eu-west-1:012345678901:alarms", '
                '"arn:aws:sns:eu-west-1:012345678901:pager"]',
                "true (publish to the account's budget topic) or false",
                "write true, and subscribe other endpoints to the account's topic",
            )
        ],
    ),
    (
        "snsTopic as a YAML 1.2 string",
        [
            org_notifications(
                {"notificationType": "ACTUAL", "threshold": 80, "snsTopic": "yes"}
            )
        ],
        [
            Problem(
                "organization.budget.notifications[0].snsTopic",
                "snsTopic is not true or false",
                '"yes"',
                "true or false",
                "write true or false",
            )
        ],
    ),
    (
        "notification without subscriber",
        [
            set_key("organization.budget.emails", []),
            org_notifications(
                {"notificationType": "ACTUAL", "threshold": 80, "snsTopic": False}
            ),
        ],
        [
            Problem(
                "organization.budget.anomalyDetection.emails",
                "no email recipient for cost anomaly alerts",
                "nothing",
                "1 to 10 email addresses here or in organization.budget.emails",
                "add emails, or set anomalyDetection.enabled: false",
            ),
            Problem(
                "organization.budget.notifications[0]",
                "notification has no subscriber",
                '{"emails": [], "snsTopic": false}',
                "at least one email address or snsTopic: true",
                "set snsTopic: true, or give emails to the notification or to its "
                "budget",
            ),
        ],
    ),
    (
        "unknown service name",
        [set_key(f"{LAMBDA}.service", "AWS Lamda")],
        [
            Problem(
                "accounts[4].budget.services[0].service",
                "unknown Cost Explorer service name",
                '"AWS Lamda"',
                'a Cost Explorer service name, for example "AWS Lambda"',
                "did you mean AWS Lambda?",
            )
        ],
    ),
    (
        "service code in place of its name",
        [set_key(f"{LAMBDA}.service", "lambda")],
        [
            Problem(
                "accounts[4].budget.services[0].service",
                "unknown Cost Explorer service name",
                '"lambda"',
                'a Cost Explorer service name, for example "AWS Lambda"',
                'write "AWS Lambda", the Cost Explorer name of lambda',
            )
        ],
    ),
    (
        "service missing from the table",
        [set_key(f"{LAMBDA}.service", "Amazon Bedrock")],
        [
            Problem(
                "accounts[4].budget.services[0].service",
                "unknown Cost Explorer service name",
                '"Amazon Bedrock"',
                'a Cost Explorer service name, for example "AWS Lambda"',
                "use the name that `aws ce get-dimension-values --dimension SERVICE` "
                "returns; if it is missing here, add it to "
                "aws_formats.COST_EXPLORER_SERVICES",
            )
        ],
    ),
    (
        "duplicate service budget",
        [
            append(
                f"accounts.{PAYMENTS_PROD}.budget.services",
                {"service": "AWS Lambda", "limitUsd": 10},
            )
        ],
        [
            Problem(
                "accounts[4].budget.services[1].service",
                "duplicate service budget",
                '"AWS Lambda"',
                "one budget per service and account",
                "remove it, or change accounts[4].budget.services[0]",
            )
        ],
    ),
    (
        "notification type in lower case",
        [org_notifications({"notificationType": "actual", "threshold": 80})],
        [
            Problem(
                "organization.budget.notifications[0].notificationType",
                "unknown notification type",
                '"actual"',
                "one of ACTUAL, FORECASTED",
                "did you mean ACTUAL?",
            )
        ],
    ),
    (
        "notification type missing",
        [org_notifications({"threshold": 80})],
        [
            Problem(
                "organization.budget.notifications[0].notificationType",
                "missing required key",
                "nothing",
                "a value",
                "add `notificationType`",
            )
        ],
    ),
    (
        "unknown threshold type",
        [
            org_notifications(
                {
                    "notificationType": "ACTUAL",
                    "threshold": 80,
                    "thresholdType": "PERCENT",
                }
            )
        ],
        [
            Problem(
                "organization.budget.notifications[0].thresholdType",
                "unknown threshold type",
                '"PERCENT"',
                "one of PERCENTAGE, ABSOLUTE_VALUE",
                "did you mean PERCENTAGE?",
            )
        ],
    ),
    (
        "unknown comparison operator",
        [
            org_notifications(
                {
                    "notificationType": "ACTUAL",
                    "threshold": 80,
                    "comparisonOperator": "GREATER_THAN_OR_EQUAL",
                }
            )
        ],
        [
            Problem(
                "organization.budget.notifications[0].comparisonOperator",
                "unknown comparison operator",
                '"GREATER_THAN_OR_EQUAL"',
                "one of GREATER_THAN, LESS_THAN, EQUAL_TO",
                "did you mean GREATER_THAN?",
            )
        ],
    ),
    (
        "IMMEDIATE anomaly alerts",
        [set_key("organization.budget.anomalyDetection.frequency", "IMMEDIATE")],
        [
            Problem(
                "organization.budget.anomalyDetection.frequency",
                "IMMEDIATE anomaly alerts go to an SNS topic only, and this "
                "subscription sends email",
                '"IMMEDIATE"',
                "one of DAILY, WEEKLY",
                "use DAILY",
            )
        ],
    ),
    (
        "anomaly threshold zero",
        [set_key("organization.budget.anomalyDetection.thresholdUsd", 0)],
        [
            Problem(
                "organization.budget.anomalyDetection.thresholdUsd",
                "thresholdUsd must be greater than 0",
                "0",
                ANOMALY_ALLOWED,
                "write a positive number",
            )
        ],
    ),
    (
        "anomaly detection enabled as a string",
        [set_key("organization.budget.anomalyDetection.enabled", "yes")],
        [
            Problem(
                "organization.budget.anomalyDetection.enabled",
                "enabled is not true or false",
                '"yes"',
                "true or false",
                "write true or false",
            )
        ],
    ),
    (
        "eleven anomaly recipients",
        [set_key("organization.budget.anomalyDetection.emails", ELEVEN_EMAILS)],
        [
            Problem(
                "organization.budget.anomalyDetection.emails",
                "11 email addresses, but an anomaly subscription sends to at most 10",
                '["team0@example.com", "team1@example.com", "team2@example.com", '
                '"team3@example.com", "team4@example.com", "team5@exam...',
                EMAILS_ALLOWED,
                "remove addresses, or send to a mailing list",
            )
        ],
    ),
    (
        "unknown key in an account budget",
        [set_key(f"accounts.{SANDBOX}.budget.limit", 100)],
        [
            Problem(
                "accounts[9].budget.limit",
                "unknown key",
                "limit: 100",
                "one of emails, limitUsd, notifications, services",
                "did you mean limitUsd?",
            )
        ],
    ),
    (
        "unknown key in a notification",
        [set_key(f"{LAMBDA}.notifications.0.treshold", 1)],
        [
            Problem(
                "accounts[4].budget.services[0].notifications[0].treshold",
                "unknown key",
                "treshold: 1",
                "one of comparisonOperator, emails, notificationType, snsTopic, "
                "threshold, thresholdType",
                "did you mean threshold or thresholdType?",
            )
        ],
    ),
]


@pytest.mark.parametrize(("changes", "expected"), case_params(INVALID_CASES))
def test_invalid_budget(
    prod_values: dict[str, Any], changes: list[Change], expected: list[Problem]
) -> None:
    assert problems_after(prod_values, changes) == expected


def test_defaults_apply_to_every_account(prod_values: dict[str, Any]) -> None:
    organization = config.load(prod_values, PROD_SECRET_KEYS)
    budget = organization.account_by_name["network"].budget
    assert budget is not None
    assert budget.limit_usd == Decimal(5000)
    assert budget.services == ()
    emails = ("finops@example.com", "platform-team@example.com")
    assert budget.notifications == (
        Notification("ACTUAL", "GREATER_THAN", 80.0, "PERCENTAGE", emails, True),
        Notification("ACTUAL", "GREATER_THAN", 100.0, "PERCENTAGE", emails, True),
        Notification("FORECASTED", "GREATER_THAN", 100.0, "PERCENTAGE", emails, True),
    )


def test_account_overrides_limit_and_emails(prod_values: dict[str, Any]) -> None:
    budget = (
        config.load(prod_values, PROD_SECRET_KEYS).account_by_name["sandbox"].budget
    )
    assert budget is not None
    assert budget.limit_usd == Decimal(200)
    for notification in budget.notifications:
        assert notification.emails == (
            "finops@example.com",
            "sandbox-owners@example.com",
        )


def test_service_budget_inherits_emails(prod_values: dict[str, Any]) -> None:
    budget = (
        config.load(prod_values, PROD_SECRET_KEYS)
        .account_by_name["payments-prod"]
        .budget
    )
    assert budget is not None
    [service] = budget.services
    assert service.service == "AWS Lambda"
    assert service.limit_usd == Decimal(2000)
    assert [item.describe() for item in service.notifications] == [
        "ACTUAL > 50 %",
        "ACTUAL > 100 %",
        "FORECASTED > 100 %",
    ]
    inherited = ("finops@example.com", "platform-team@example.com")
    assert service.notifications[0].emails == inherited
    assert service.notifications[2].emails == (
        "finops@example.com",
        "payments-oncall@example.com",
    )


def test_service_budget_inherits_notifications(prod_values: dict[str, Any]) -> None:
    delete_key(f"{LAMBDA}.notifications")(prod_values)
    budget = (
        config.load(prod_values, PROD_SECRET_KEYS)
        .account_by_name["payments-prod"]
        .budget
    )
    assert budget is not None
    assert budget.services[0].notifications == budget.notifications


def test_percentage_and_absolute_are_distinct(prod_values: dict[str, Any]) -> None:
    org_notifications(
        {"notificationType": "ACTUAL", "threshold": 80},
        {
            "notificationType": "ACTUAL",
            "threshold": 80,
            "thresholdType": "ABSOLUTE_VALUE",
        },
    )(prod_values)
    budget = (
        config.load(prod_values, PROD_SECRET_KEYS).account_by_name["network"].budget
    )
    assert budget is not None
    assert [item.describe() for item in budget.notifications] == [
        "ACTUAL > 80 USD",
        "ACTUAL > 80 %",
    ]


def test_entry_order_does_not_matter(prod_values: dict[str, Any]) -> None:
    reordered = copy.deepcopy(prod_values)
    reordered["organization"]["budget"]["emails"].reverse()
    reordered["accounts"][PAYMENTS_PROD]["budget"]["services"][0][
        "notifications"
    ].reverse()
    org_notifications(
        {"notificationType": "FORECASTED", "threshold": 100},
        {"notificationType": "ACTUAL", "threshold": 100},
        {"notificationType": "ACTUAL", "threshold": 80},
    )(reordered)
    assert config.load(reordered, PROD_SECRET_KEYS) == config.load(
        prod_values, PROD_SECRET_KEYS
    )


def test_no_organization_budget(prod_values: dict[str, Any]) -> None:
    del prod_values["organization"]["budget"]
    organization = config.load(prod_values, PROD_SECRET_KEYS)
    assert organization.anomaly_detection is None
    with_budget = {account.name for account in organization.accounts if account.budget}
    assert with_budget == {"payments-prod", "sandbox"}


def test_anomaly_detection_defaults(prod_values: dict[str, Any]) -> None:
    del prod_values["organization"]["budget"]["anomalyDetection"]
    anomaly = config.load(prod_values, PROD_SECRET_KEYS).anomaly_detection
    assert anomaly is not None
    assert anomaly.threshold_usd == Decimal(100)
    assert anomaly.frequency == "DAILY"
    assert anomaly.emails == ("finops@example.com", "platform-team@example.com")


def test_anomaly_detection_disabled(prod_values: dict[str, Any]) -> None:
    set_key("organization.budget.anomalyDetection.enabled", False)(prod_values)
    assert config.load(prod_values, PROD_SECRET_KEYS).anomaly_detection is None


def test_bounds_accepted(prod_values: dict[str, Any]) -> None:
    set_key("organization.budget.limitUsd", 15_000_000_000_000)(prod_values)
    set_key(f"{LAMBDA}.limitUsd", 0.01)(prod_values)
    set_key("organization.budget.anomalyDetection.thresholdUsd", 0.01)(prod_values)
    org_notifications(
        {"notificationType": "ACTUAL", "threshold": 1_000_000},
        {"notificationType": "ACTUAL", "threshold": 12.5},
        {
            "notificationType": "ACTUAL",
            "threshold": 14_999_999_999_999.99,
            "thresholdType": "ABSOLUTE_VALUE",
        },
    )(prod_values)
    organization = config.load(prod_values, PROD_SECRET_KEYS)
    budget = organization.account_by_name["network"].budget
    lambda_budget = organization.account_by_name["payments-prod"].budget
    assert budget is not None
    assert lambda_budget is not None
    assert organization.anomaly_detection is not None
    assert budget.limit_usd == Decimal(15_000_000_000_000)
    assert lambda_budget.services[0].limit_usd == Decimal("0.01")
    assert organization.anomaly_detection.threshold_usd == Decimal("0.01")
    assert [item.describe() for item in budget.notifications] == [
        "ACTUAL > 14999999999999.99 USD",
        "ACTUAL > 12.5 %",
        "ACTUAL > 1000000 %",
    ]


# Values a hostile or careless stack file can hold where a number is expected.
HOSTILE_VALUES = [
    pytest.param(int("9" * 400), id="400 digits"),
    pytest.param(10**5000, id="5000 digits"),
    pytest.param(float("inf"), id="inf"),
    pytest.param(float("nan"), id="nan"),
    pytest.param(1e300, id="1e300"),
    pytest.param(-0.0, id="negative zero"),
    pytest.param(True, id="true"),
]


def leaf_paths(value: Any, path: str) -> list[str]:
    """List the dotted path of every value under `path`, containers included."""
    paths = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            paths.extend(leaf_paths(item, f"{path}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths.extend(leaf_paths(item, f"{path}.{index}"))
    return paths


def unexpected_errors(values: dict[str, Any], paths: list[str], hostile: Any) -> list:
    """Put `hostile` at each path in turn; list every error that is no ConfigError."""
    errors = []
    for path in paths:
        changed = copy.deepcopy(values)
        set_key(path, hostile)(changed)
        try:
            config.load(changed, PROD_SECRET_KEYS)
        except ConfigError:
            continue
        except Exception as error:  # noqa: BLE001 - the test reports any other error
            errors.append((path, type(error).__name__, str(error)[:80]))
    return errors


@pytest.mark.parametrize("hostile", HOSTILE_VALUES)
def test_hostile_value_anywhere_in_budgets(
    prod_values: dict[str, Any], hostile: Any
) -> None:
    paths = leaf_paths(prod_values["organization"]["budget"], "organization.budget")
    for index in (PAYMENTS_PROD, SANDBOX):
        budget = prod_values["accounts"][index]["budget"]
        paths.extend(leaf_paths(budget, f"accounts.{index}.budget"))
    assert unexpected_errors(prod_values, paths, hostile) == []
