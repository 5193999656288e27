"""The baseline of one member account: every component it gets, under its provider."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from accounts.budget import AccountBudget
from accounts.endpoints import VpcEndpoints
from accounts.execution_role import ExecutionRole
from accounts.layers import SharedLayer
from governance.plan import AccountPlan


class AccountBaseline(pulumi.ComponentResource):
    """Every resource one member account gets, created through the account's provider.

    Children inherit the provider from the component, so nothing inside it can act
    in another account.
    """

    def __init__(
        self,
        plan: AccountPlan,
        provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "org-governance:accounts:AccountBaseline",
            plan.name,
            None,
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(providers={"aws": provider})
            ),
        )
        self.account_name = plan.name
        self.account_id = plan.account_id
        child = pulumi.ResourceOptions(parent=self)
        self.execution_roles = {
            role.name: ExecutionRole(role, opts=child) for role in plan.execution_roles
        }
        self.outputs: dict[str, pulumi.Input[object]] = {
            "id": plan.account_id,
            "name": plan.name,
            "organizationalUnit": plan.organizational_unit,
            "region": plan.region,
            "executionRoles": {
                name: role.arn for name, role in sorted(self.execution_roles.items())
            },
        }
        self.budget = (
            AccountBudget(
                f"{plan.name}-budget",
                plan.budget,
                opts=pulumi.ResourceOptions(parent=self),
            )
            if plan.budget is not None
            else None
        )
        if self.budget is not None:
            self.outputs["budget"] = self.budget.outputs
        self.layers = [
            SharedLayer(layer, pulumi.ResourceOptions(parent=self))
            for layer in plan.layers
        ]
        # Only an account that owns layers gets the key, keyed by layer name.
        self.layer_outputs = {layer.layer_name: layer.outputs for layer in self.layers}
        if self.layer_outputs:
            self.outputs["layers"] = self.layer_outputs
        self.vpc_endpoints: VpcEndpoints | None = None
        if plan.network is not None:
            self.vpc_endpoints = VpcEndpoints(
                plan.network, pulumi.ResourceOptions(parent=self)
            )
            self.outputs["vpcEndpoints"] = self.vpc_endpoints.outputs
        self.register_outputs(self.outputs)
