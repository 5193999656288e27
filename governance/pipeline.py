"""The path every command shares: a stack's configuration, validated and planned."""

from __future__ import annotations

from pathlib import Path

from governance import config
from governance.plan import OrganizationPlan, plan_organization
from governance.stack_config import StackConfig


def load_and_plan(
    stack: StackConfig, project_dir: Path
) -> tuple[config.Organization, OrganizationPlan]:
    """Validate and plan a stack's configuration; raises ConfigError on any problem.

    Planning is part of validation because quotas are checked on the documents.
    Layer content and the layer lock file are read from `project_dir`.
    """
    organization = config.load(
        stack.values, stack.secret_keys, project_dir, stack.secret_paths
    )
    return organization, plan_organization(organization, stack.project, stack.stack)
