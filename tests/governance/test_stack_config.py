"""Reading stack files: YAML 1.2 numbers, secure values and namespaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.problems import ConfigError, Problem
from governance.stack_config import (
    SECRET_PLACEHOLDER,
    decode_runtime_value,
    read_stack,
    runtime_values,
)
from tests.conftest import PROJECT_DIR


def write_project(tmp_path: Path, stack_text: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: org-governance\nruntime: python\n")
    (tmp_path / "Pulumi.test.yaml").write_text(stack_text)
    return tmp_path


def test_unquoted_id_reads_as_number(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        "config:\n  org-governance:accounts:\n    - id: 012345678901\n",
    )
    stack = read_stack(project, "test")
    assert stack.values["accounts"][0]["id"] == 12345678901


def test_yaml_one_one_booleans_stay_strings(tmp_path: Path) -> None:
    project = write_project(tmp_path, "config:\n  org-governance:flag: on\n")
    assert read_stack(project, "test").values["flag"] == "on"


def test_secure_value_replaced_and_marked(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        "config:\n"
        "  org-governance:roles:\n"
        "    - externalId:\n"
        "        secure: AAABAJ3x\n"
        "  org-governance:plain: [1]\n",
    )
    stack = read_stack(project, "test")
    assert stack.values["roles"][0]["externalId"] == SECRET_PLACEHOLDER
    assert stack.secret_keys == frozenset({"roles"})


def test_runtime_values_as_cli_passes_them(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        "config:\n"
        "  aws:region: eu-west-1\n"
        "  bare: 1\n"
        "  org-governance:accounts:\n"
        "    - name: a\n",
    )
    values, secret = runtime_values(read_stack(project, "test"))
    assert values == {
        "aws:region": "eu-west-1",
        "org-governance:accounts": '[{"name": "a"}]',
        "org-governance:bare": "1",
    }
    assert secret == []


def test_missing_stack_file(tmp_path: Path) -> None:
    write_project(tmp_path, "config: {}\n")
    with pytest.raises(ConfigError) as raised:
        read_stack(tmp_path, "nope")
    assert raised.value.problems[0].message == "file not found"
    assert raised.value.problems[0].path == str(tmp_path / "Pulumi.nope.yaml")


def test_invalid_yaml_reported(tmp_path: Path) -> None:
    write_project(tmp_path, "config: [\n")
    with pytest.raises(ConfigError) as raised:
        read_stack(tmp_path, "test")
    assert raised.value.problems[0].message == "invalid YAML"


def test_prod_stack_reads(prod_stack) -> None:
    assert prod_stack.project == "org-governance"
    assert set(prod_stack.values) == {
        "organization",
        "accounts",
        "executionRoles",
        "layers",
    }
    assert prod_stack.secret_keys == frozenset({"executionRoles"})
    assert prod_stack.other == {"aws:region": "eu-west-1"}
    assert (PROJECT_DIR / "Pulumi.prod.yaml").exists()


def test_number_too_long_reported(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        "config:\n  org-governance:organization:\n    limitUsd: " + "9" * 5000 + "\n",
    )
    with pytest.raises(ConfigError) as raised:
        read_stack(tmp_path, "test")
    assert raised.value.problems == [
        Problem(
            str(tmp_path / "Pulumi.test.yaml"),
            "invalid YAML value",
            "line 3: a number of 5,000 digits",
            "integers of at most 4,300 digits and valid dates",
            "correct the value",
        )
    ]


def test_impossible_date_reported(tmp_path: Path) -> None:
    write_project(tmp_path, "config:\n  org-governance:start: 2001-02-30\n")
    with pytest.raises(ConfigError) as raised:
        read_stack(tmp_path, "test")
    assert raised.value.problems == [
        Problem(
            str(tmp_path / "Pulumi.test.yaml"),
            "invalid YAML value",
            "day is out of range for month",
            "integers of at most 4,300 digits and valid dates",
            "correct the value",
        )
    ]


def test_runtime_number_too_long_stays_text() -> None:
    text = '{"limitUsd": ' + "9" * 5000 + "}"
    assert decode_runtime_value(text) == text
