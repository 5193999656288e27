"""An execution role in one account: the role, its inline policy, its attachments."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from governance import policy
from governance.trust import RolePlan


def policy_input(document: object) -> pulumi.Input[str]:
    """Return a policy as a resource input: compact JSON, secret if it contains one.

    A trust policy with an external id is sent as a Pulumi secret, so the id is
    encrypted in the state and masked in every preview and output.
    """
    text = policy.to_json(document, reveal=True)
    return pulumi.Output.secret(text) if policy.has_secret(document) else text


def attachment_suffix(arn: str) -> str:
    """Name an attachment after its policy: "aws/<path><name>" or "account/...".

    The suffix keeps the policy's path, so two policies of one name under different
    paths, or an AWS managed and a customer policy of one name, stay apart.
    """
    _, _, _, _, owner, resource = arn.split(":", 5)
    kind = "aws" if owner == "aws" else "account"
    return f"{kind}/{resource.removeprefix('policy/')}"


class ExecutionRole(pulumi.ComponentResource):
    """An IAM role others may assume, with exactly the trust its plan describes."""

    def __init__(
        self,
        plan: RolePlan,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "org-governance:accounts:ExecutionRole", plan.resource_name, None, opts
        )
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            plan.resource_name,
            name=plan.name,
            path=plan.path,
            description=plan.description or None,
            assume_role_policy=policy_input(plan.trust_policy),
            max_session_duration=plan.max_session_duration,
            permissions_boundary=plan.permissions_boundary,
            opts=child,
        )
        self.inline_policy = None
        if plan.inline_policy is not None:
            self.inline_policy = aws.iam.RolePolicy(
                f"{plan.resource_name}/inline",
                role=self.role.name,
                name=f"{plan.name}-inline",
                policy=policy_input(plan.inline_policy),
                opts=child,
            )
        self.attachments = [
            aws.iam.RolePolicyAttachment(
                f"{plan.resource_name}/{attachment_suffix(arn)}",
                role=self.role.name,
                policy_arn=arn,
                opts=child,
            )
            for arn in plan.managed_policy_arns
        ]
        self.arn = self.role.arn
        self.register_outputs({"arn": self.arn})
