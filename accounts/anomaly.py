"""Cost anomaly detection over every member account, from the management account."""

from __future__ import annotations

import pulumi
from pulumi_aws import costexplorer

from governance.budget_plan import AnomalyDetectionPlan

# An AWS managed monitor on the LINKED_ACCOUNT dimension evaluates each member
# account on its own (up to the 5,000 costliest), including accounts added later.
# A CUSTOM monitor would take at most 10 accounts and add up their spend, so one
# account's spike could hide behind another's drop.
MONITOR_TYPE = "DIMENSIONAL"
MONITOR_DIMENSION = "LINKED_ACCOUNT"
# Alert when an anomaly's total cost impact reaches the threshold, in USD.
THRESHOLD_KEY = "ANOMALY_TOTAL_IMPACT_ABSOLUTE"
THRESHOLD_MATCH = "GREATER_THAN_OR_EQUAL"
SUBSCRIBER_TYPE = "EMAIL"


class CostAnomalyDetection(pulumi.ComponentResource):
    """The organization's anomaly monitor over linked accounts and its email alerts.

    Create it under the management account's provider: only there does the
    LINKED_ACCOUNT dimension see every member account's cost.
    """

    def __init__(
        self,
        name: str,
        plan: AnomalyDetectionPlan,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "org-governance:anomaly:CostAnomalyDetection", name, None, opts
        )
        self.monitor = costexplorer.AnomalyMonitor(
            f"{name}-monitor",
            name=plan.monitor_name,
            monitor_type=MONITOR_TYPE,
            monitor_dimension=MONITOR_DIMENSION,
            opts=pulumi.ResourceOptions(parent=self),
        )
        threshold = costexplorer.AnomalySubscriptionThresholdExpressionArgs(
            dimension=costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                key=THRESHOLD_KEY,
                match_options=[THRESHOLD_MATCH],
                values=[plan.threshold_usd],
            ),
        )
        self.subscription = costexplorer.AnomalySubscription(
            f"{name}-subscription",
            name=plan.subscription_name,
            frequency=plan.frequency,
            monitor_arn_lists=[self.monitor.arn],
            subscribers=[
                costexplorer.AnomalySubscriptionSubscriberArgs(
                    type=SUBSCRIBER_TYPE,
                    address=email,
                )
                for email in plan.emails
            ],
            threshold_expression=threshold,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.outputs: dict[str, pulumi.Input[object]] = {
            "monitorArn": self.monitor.arn,
            "subscriptionArn": self.subscription.arn,
        }
        self.register_outputs(self.outputs)
