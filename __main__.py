"""org-governance: the baseline of every member account of an AWS Organization.

Read and validate the stack configuration, plan every account the stack covers,
create each account's provider and baseline, and export what they expose.
"""

import sys
from pathlib import Path

import pulumi

from accounts.anomaly import CostAnomalyDetection
from accounts.baseline import AccountBaseline
from accounts.provider import account_provider
from governance import collector, layers, shards, stack_config
from governance.plan import plan_organization
from governance.problems import EXIT_INVALID, ConfigError

PROJECT_DIR = Path(__file__).resolve().parent

collector.defer_full_collections()
values, secret_keys = stack_config.from_runtime()
try:
    # A stack of a split organization also reads the shared file, and the other
    # stacks' files for their shards, from the project directory.
    organization, shard = shards.load(
        values, secret_keys, PROJECT_DIR, pulumi.get_stack()
    )
    plan = plan_organization(
        organization, pulumi.get_project(), pulumi.get_stack(), shard
    )
    # The zips built from layer directories go where each LayerVersion's code
    # points; a stack writes those of the layers its accounts own.
    layers.write_archives(
        [layer for layer in organization.layers if layer.owner in shard.accounts],
        PROJECT_DIR,
    )
except ConfigError as error:
    # Nothing is registered before this point, so invalid input changes nothing.
    print(error.render(), file=sys.stderr)
    sys.exit(EXIT_INVALID)
for warning in organization.warnings:
    pulumi.log.warn(warning.render())

# Of a split organization, only the stack with the organization-level resources
# needs the management account's provider: each provider is a process of its own.
management_provider = (
    account_provider(plan.management) if plan.organization_resources else None
)
anomaly_detection = (
    CostAnomalyDetection(
        "cost-anomaly-detection",
        plan.anomaly_detection,
        opts=pulumi.ResourceOptions(providers={"aws": management_provider}),
    )
    if plan.anomaly_detection is not None
    else None
)
baselines = [
    AccountBaseline(account, account_provider(account.provider))
    for account in plan.accounts
]

pulumi.export("organizationId", plan.organization_id)
pulumi.export("managementAccountId", plan.management.account_id)
pulumi.export(
    "accounts", {baseline.account_name: baseline.outputs for baseline in baselines}
)
if anomaly_detection is not None:
    pulumi.export("costAnomalyDetection", anomaly_detection.outputs)
pulumi.export(
    "layers",
    {
        name: outputs
        for baseline in baselines
        for name, outputs in baseline.layer_outputs.items()
    },
)
