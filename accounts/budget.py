"""An account's budgets and the SNS topic their alarms publish to."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from governance import policy
from governance.budget_plan import AccountBudgetPlan, BudgetPlan

# Budgets are monthly cost budgets in US dollars.
BUDGET_TYPE = "COST"
TIME_UNIT = "MONTHLY"
LIMIT_UNIT = "USD"
SERVICE_COST_FILTER = "Service"


class AccountBudget(pulumi.ComponentResource):
    """The account's monthly cost budgets and their alarm topic.

    Created as a child of the account's baseline, so everything here acts through
    the account's provider. `time_period_start` is left out: AWS then starts the
    budget at the beginning of the month it is created in, and the program never
    reads the clock.
    """

    def __init__(
        self,
        name: str,
        plan: AccountBudgetPlan,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("org-governance:budget:AccountBudget", name, None, opts)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=plan.topic_name,
            policy=policy.to_json(plan.topic_policy),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.budgets = {
            budget.key: _budget(f"{name}-{budget.key}", budget, self.topic, self)
            for budget in plan.budgets
        }
        self.outputs: dict[str, pulumi.Input[object]] = {
            "name": plan.account_budget.name,
            "topicArn": self.topic.arn,
            "serviceBudgets": {
                budget.service: budget.name for budget in plan.service_budgets
            },
        }
        self.register_outputs(self.outputs)


def _budget(
    name: str, plan: BudgetPlan, topic: aws.sns.Topic, parent: pulumi.Resource
) -> aws.budgets.Budget:
    notifications = [
        aws.budgets.BudgetNotificationArgs(
            comparison_operator=notification.comparison_operator,
            notification_type=notification.notification_type,
            threshold=notification.threshold,
            threshold_type=notification.threshold_type,
            subscriber_email_addresses=list(notification.emails) or None,
            subscriber_sns_topic_arns=[topic.arn] if notification.sns_topic else None,
        )
        for notification in plan.notifications
    ]
    cost_filters = (
        [
            aws.budgets.BudgetCostFilterArgs(
                name=SERVICE_COST_FILTER,
                values=[plan.service],
            )
        ]
        if plan.service is not None
        else None
    )
    return aws.budgets.Budget(
        name,
        name=plan.name,
        account_id=plan.account_id,
        budget_type=BUDGET_TYPE,
        time_unit=TIME_UNIT,
        limit_amount=plan.limit_amount,
        limit_unit=LIMIT_UNIT,
        cost_filters=cost_filters,
        notifications=notifications,
        # The topic carries its policy from creation, so AWS can publish at once.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[topic]),
    )
