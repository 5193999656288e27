"""The plan: what every account gets, as plain data, with no Pulumi import.

`plan_organization` turns a validated `Organization` into an `OrganizationPlan`.
It is deterministic (same organization, same plan, whatever the order of the
configuration's entries) and fast, and it is what the components, the offline
preview and the policy tools all read, so reviewers see what `pulumi up` sends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from governance import aws_formats
from governance.budget_plan import (
    AccountBudgetPlan,
    AnomalyDetectionPlan,
    plan_account_budget,
    plan_anomaly_detection,
)
from governance.config import MANAGEMENT_NAME, Account, Organization
from governance.endpoints import NetworkPlan, plan_network
from governance.fields import MANAGED_BY_TAG
from governance.layers import LayerPlan, plan_layers
from governance.problems import ConfigError, Problem
from governance.shards import Shard
from governance.trust import RolePlan, plan_roles


@dataclass(frozen=True)
class ProviderPlan:
    """An `aws.Provider` confined to one account through an assumed role."""

    name: str
    account_id: str
    region: str
    role_arn: str
    session_name: str
    default_tags: Mapping[str, str]


@dataclass(frozen=True)
class AccountPlan:
    """Everything one member account gets, under its own provider."""

    name: str
    account_id: str
    organizational_unit: str
    region: str
    partition: str
    provider: ProviderPlan
    execution_roles: tuple[RolePlan, ...] = ()
    budget: AccountBudgetPlan | None = None
    # Shared layers this account owns and publishes.
    layers: tuple[LayerPlan, ...] = ()
    network: NetworkPlan | None = None


@dataclass(frozen=True)
class OrganizationPlan:
    """The whole plan: the management account's provider and each member account."""

    project: str
    stack: str
    organization_id: str
    management: ProviderPlan
    accounts: tuple[AccountPlan, ...]
    anomaly_detection: AnomalyDetectionPlan | None = None
    # Whether this stack creates the management account's provider and the
    # organization-level resources; of a split organization, one stack does.
    organization_resources: bool = True


def session_name(project: str, stack: str) -> str:
    """Return the STS session name the deployment uses, trimmed to STS's 64 characters.

    CloudTrail records it with every call, so it names the project and the stack.
    """
    return re.sub(r"[^A-Za-z0-9+=,.@_-]", "-", f"{project}-{stack}")[:64]


def _provider(
    name: str,
    account_id: str,
    region: str,
    partition: str,
    role_name: str,
    tags: Mapping[str, str],
    session: str,
) -> ProviderPlan:
    return ProviderPlan(
        name=name,
        account_id=account_id,
        region=region,
        role_arn=aws_formats.role_arn(partition, account_id, role_name),
        session_name=session,
        default_tags=dict(sorted(tags.items())),
    )


def plan_account(
    account: Account,
    project: str,
    stack: str,
    *,
    organization_id: str,
    execution_roles: tuple[RolePlan, ...] = (),
    layers: tuple[LayerPlan, ...] = (),
) -> AccountPlan:
    """Plan one member account of the organization `organization_id`.

    The account's execution roles and the shared layers it owns are planned at the
    organization level and passed in.
    """
    tags = {**account.tags, MANAGED_BY_TAG: f"{project}/{stack}"}
    return AccountPlan(
        name=account.name,
        account_id=account.id,
        organizational_unit=account.organizational_unit,
        region=account.region,
        partition=account.partition,
        provider=_provider(
            account.name,
            account.id,
            account.region,
            account.partition,
            account.deployment_role_name,
            tags,
            session_name(project, stack),
        ),
        execution_roles=execution_roles,
        budget=plan_account_budget(
            account.name, account.id, account.region, account.partition, account.budget
        )
        if account.budget is not None
        else None,
        layers=layers,
        network=plan_network(account, organization_id),
    )


def plan_organization(
    organization: Organization, project: str, stack: str, shard: Shard | None = None
) -> OrganizationPlan:
    """Plan every account of the organization, or of a shard, sorted by account name.

    With a shard, only its accounts are planned, and the organization-level
    resources only if it has them. Execution roles are planned for the whole
    organization either way, so every stack checks the same quotas. Raises
    ConfigError when a planned document exceeds an AWS quota.
    """
    problems: list[Problem] = []
    roles = plan_roles(organization, problems)
    if problems:
        raise ConfigError(problems)
    organization_resources = shard is None or shard.organization_resources
    management_tags = {**organization.tags, MANAGED_BY_TAG: f"{project}/{stack}"}
    layers = plan_layers(organization)
    return OrganizationPlan(
        project=project,
        stack=stack,
        organization_id=organization.id,
        management=_provider(
            MANAGEMENT_NAME,
            organization.management_account_id,
            organization.default_region,
            organization.partition,
            organization.management_role_name,
            management_tags,
            session_name(project, stack),
        ),
        accounts=tuple(
            plan_account(
                account,
                project,
                stack,
                organization_id=organization.id,
                execution_roles=roles.get(account.name, ()),
                layers=layers.get(account.name, ()),
            )
            for account in organization.accounts
            if shard is None or account.name in shard.accounts
        ),
        anomaly_detection=plan_anomaly_detection(
            organization.anomaly_detection, project, stack
        )
        if organization_resources
        else None,
        organization_resources=organization_resources,
    )
