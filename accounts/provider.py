"""The AWS provider of one account, confined to it through an assumed role."""

from __future__ import annotations

import pulumi_aws as aws

from governance.plan import ProviderPlan


def account_provider(plan: ProviderPlan) -> aws.Provider:
    """Create the provider that acts in the plan's account and nowhere else.

    `allowed_account_ids` makes the provider fail before any change when the
    assumed role's credentials belong to another account.
    """
    return aws.Provider(
        plan.name,
        region=plan.region,
        assume_roles=[
            aws.ProviderAssumeRoleArgs(
                role_arn=plan.role_arn,
                session_name=plan.session_name,
            )
        ],
        allowed_account_ids=[plan.account_id],
        default_tags=aws.ProviderDefaultTagsArgs(tags=dict(plan.default_tags)),
    )
