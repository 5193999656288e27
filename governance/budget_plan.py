"""The plan of budget alarms: budget names, the alarm topic and its policy.

Where budgets live: in each member account, created through the account's own
provider, and not in the management account with a LinkedAccount filter. A budget
in a member account covers that account's spend only, so the account it watches is
the account it lives in, which the provider's `allowed_account_ids` enforces and
the budget's `account_id` names. The alarm topic then sits in the same account, so
its policy can confine publishing to that one account's budgets, and the account's
own automation subscribes to it without any cross-account grant. The cost: an
administrator of the member account can change or delete the budget, and
`pulumi up --refresh` restores it. Cost anomaly detection, which needs the whole
organization's data, runs in the management account.

Names are derived from the account name and never from the clock: a budget is
`<account>-monthly-cost` or `<account>-<service>-monthly-cost`. AWS identifies a
budget by its name, so renaming an account replaces its budgets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from governance import aws_formats, policy
from governance.budgets import AccountBudget, AnomalyDetection, Notification

BUDGET_SUFFIX = "monthly-cost"
TOPIC_SUFFIX = "budget-alarms"
BUDGETS_SERVICE_PRINCIPAL = "budgets.amazonaws.com"
# The key of the account's whole-cost budget among its budgets; service budgets use
# the service's short name from aws_formats.COST_EXPLORER_SERVICES.
ACCOUNT_BUDGET_KEY = "account"


@dataclass(frozen=True)
class BudgetPlan:
    """One `aws.budgets.Budget`: a monthly COST budget, maybe on one service only.

    `key` distinguishes the account's budgets in resource names. `service` is the
    Cost Explorer service name of the `Service` cost filter, or None for the
    account's whole cost.
    """

    key: str
    name: str
    arn: str
    account_id: str
    limit_amount: str
    service: str | None
    notifications: tuple[Notification, ...]


@dataclass(frozen=True)
class AccountBudgetPlan:
    """The budgets of one account and the SNS topic their alarms publish to."""

    account_id: str
    topic_name: str
    topic_arn: str
    topic_policy: Mapping[str, Any]
    budgets: tuple[BudgetPlan, ...]

    @property
    def account_budget(self) -> BudgetPlan:
        """Return the budget on the account's whole cost."""
        return self.budgets[0]

    @property
    def service_budgets(self) -> tuple[BudgetPlan, ...]:
        """Return the per-service budgets, sorted by service name."""
        return self.budgets[1:]


@dataclass(frozen=True)
class AnomalyDetectionPlan:
    """The management account's anomaly monitor over linked accounts and its alerts."""

    monitor_name: str
    subscription_name: str
    threshold_usd: str
    frequency: str
    emails: tuple[str, ...]


def format_amount(amount: Decimal) -> str:
    """Write an amount as the Budgets API expects: digits, maybe a point, no exponent.

    Example: Decimal("1E+3") -> "1000", Decimal("12.50") -> "12.5".
    """
    return format(amount.normalize(), "f")


def budget_name(account_name: str, service: str | None = None) -> str:
    """Return the budget name of an account, or of one service in it.

    Example: ("payments-prod", "AWS Lambda") -> "payments-prod-lambda-monthly-cost".
    """
    parts = [account_name]
    if service is not None:
        parts.append(aws_formats.COST_EXPLORER_SERVICES[service])
    parts.append(BUDGET_SUFFIX)
    name = "-".join(parts)
    if not aws_formats.BUDGET_NAME.match(name):
        raise ValueError(f"invalid budget name {name!r}")
    return name


def topic_policy(
    account_id: str, topic_arn: str, budget_arns: list[str]
) -> dict[str, Any]:
    """Build the alarm topic's policy: only this account's budgets may publish.

    `aws:SourceAccount` confines `budgets.amazonaws.com` to the owning account and
    `aws:SourceArn` to the named budgets, so no other account's budget, nor another
    budget of this account, can use the topic.
    """
    return policy.policy(
        {
            "Sid": "AllowThisAccountsBudgetsToPublish",
            "Effect": "Allow",
            "Principal": {"Service": BUDGETS_SERVICE_PRINCIPAL},
            "Action": "SNS:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": budget_arns},
            },
        }
    )


def plan_account_budget(
    account_name: str,
    account_id: str,
    region: str,
    partition: str,
    settings: AccountBudget,
) -> AccountBudgetPlan:
    """Plan an account's budgets and alarm topic from its resolved settings."""

    def budget(
        key: str,
        service: str | None,
        limit: Decimal,
        notifications: tuple[Notification, ...],
    ) -> BudgetPlan:
        name = budget_name(account_name, service)
        return BudgetPlan(
            key=key,
            name=name,
            arn=aws_formats.budget_arn(partition, account_id, name),
            account_id=account_id,
            limit_amount=format_amount(limit),
            service=service,
            notifications=notifications,
        )

    budgets = [
        budget(ACCOUNT_BUDGET_KEY, None, settings.limit_usd, settings.notifications),
        *(
            budget(
                aws_formats.COST_EXPLORER_SERVICES[service.service],
                service.service,
                service.limit_usd,
                service.notifications,
            )
            for service in settings.services
        ),
    ]
    topic_name = f"{account_name}-{TOPIC_SUFFIX}"
    topic_arn = aws_formats.sns_topic_arn(partition, region, account_id, topic_name)
    return AccountBudgetPlan(
        account_id=account_id,
        topic_name=topic_name,
        topic_arn=topic_arn,
        topic_policy=topic_policy(
            account_id, topic_arn, [budget.arn for budget in budgets]
        ),
        budgets=tuple(budgets),
    )


def plan_anomaly_detection(
    settings: AnomalyDetection | None, project: str, stack: str
) -> AnomalyDetectionPlan | None:
    """Plan the organization's anomaly monitor and subscription, or None if disabled.

    Names are derived from the project and the stack, so two stacks of one
    organization do not collide (though only one of them should enable it).
    """
    if settings is None:
        return None
    return AnomalyDetectionPlan(
        monitor_name=f"{project}-{stack}-linked-accounts",
        subscription_name=f"{project}-{stack}-cost-anomalies",
        threshold_usd=format_amount(settings.threshold_usd),
        frequency=settings.frequency,
        emails=settings.emails,
    )
