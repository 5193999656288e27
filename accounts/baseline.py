"""The baseline of one member account: every component it gets, under its provider."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from accounts.endpoints import VpcEndpoints
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
        self.outputs: dict[str, pulumi.Input[object]] = {
            "id": plan.account_id,
            "name": plan.name,
            "organizationalUnit": plan.organizational_unit,
            "region": plan.region,
        }
        self.vpc_endpoints: VpcEndpoints | None = None
        if plan.network is not None:
            self.vpc_endpoints = VpcEndpoints(
                plan.network, pulumi.ResourceOptions(parent=self)
            )
            self.outputs["vpcEndpoints"] = self.vpc_endpoints.outputs
        self.register_outputs(self.outputs)
