"""Helpers for tests of the sharded sample: a copy of the project, YAML edits."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from governance.stack_config import read_yaml
from tests.conftest import PROJECT_DIR

SHARED = "organization.yaml"
# What the sharded sample needs of the project: its files and the layer content.
PROJECT_FILES = (
    "Pulumi.yaml",
    SHARED,
    "Pulumi.prod-core.yaml",
    "Pulumi.prod-workloads.yaml",
    "layers.lock.json",
)


def copy_project(target: Path) -> Path:
    """Copy the sharded sample into `target` and return it."""
    for name in PROJECT_FILES:
        shutil.copy(PROJECT_DIR / name, target / name)
    shutil.copytree(PROJECT_DIR / "layers", target / "layers")
    return target


def edit(
    project: Path, file_name: str, change: Callable[[dict[str, Any]], None]
) -> None:
    """Change a YAML file of the project: load it, apply `change`, write it back."""
    document = read_yaml(project / file_name)
    change(document)
    text = io.StringIO()
    YAML(typ="safe", pure=True).dump(document, text)
    (project / file_name).write_text(text.getvalue())
