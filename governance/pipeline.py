"""The path every command shares: a stack's configuration, validated and planned."""

from __future__ import annotations

from pathlib import Path

from governance import config, shards
from governance.plan import OrganizationPlan, plan_organization
from governance.stack_config import StackConfig


def load_and_plan(
    stack: StackConfig, project_dir: Path
) -> tuple[config.Organization, OrganizationPlan]:
    """Validate and plan a stack's configuration; raises ConfigError on any problem.

    Planning is part of validation because quotas are checked on the documents.
    Layer content, the layer lock file, and for a stack of a split organization
    the shared file and the other stacks' files, are read from `project_dir`. The
    plan contains the accounts the stack covers.
    """
    organization, shard = shards.load(
        stack.values,
        stack.secret_keys,
        project_dir,
        stack.stack,
        stack.secret_paths,
    )
    plan = plan_organization(organization, stack.project, stack.stack, shard)
    return organization, plan
