"""Synthetic organizations: valid at any size, with the sample's mix of features."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest

from benchmarks.synthetic import changed_values, synthetic_stack, template_stack
from governance.cli import validate_stack
from tests.conftest import PROJECT_DIR


@pytest.fixture(scope="module")
def template():
    return template_stack()


@pytest.mark.parametrize("size", [10, 25])
def test_synthetic_organization_validates(template, size: int) -> None:
    stack = synthetic_stack(size, template)
    organization, plan = validate_stack(stack, PROJECT_DIR)
    assert len(organization.accounts) == size
    assert len(plan.accounts) == size
    assert stack.stack == f"bench-{size}"


def test_synthetic_needs_sample_accounts(template) -> None:
    with pytest.raises(ValueError, match="at least 10 accounts, the sample's; got 9"):
        synthetic_stack(9, template)


def test_synthetic_copies_sample_mix(template) -> None:
    values = synthetic_stack(30, template).values
    accounts = values["accounts"]
    samples = template.values["accounts"]
    networks = Counter("network" in account for account in accounts)
    assert networks[True] == 3 * sum("network" in sample for sample in samples)
    assert len({account["name"] for account in accounts}) == 30
    assert len({account["id"] for account in accounts}) == 30
    assert values["executionRoles"] == template.values["executionRoles"]
    assert values["layers"] == template.values["layers"]


def test_synthetic_vpc_blocks_do_not_overlap(template) -> None:
    accounts = synthetic_stack(40, template).values["accounts"]
    blocks = [
        ipaddress.ip_network(
            (account["network"].get("existingVpc") or account["network"]["newVpc"])[
                "cidr"
            ]
        )
        for account in accounts
        if "network" in account
    ]
    assert len(blocks) == 24
    for index, block in enumerate(blocks):
        for other in blocks[:index]:
            assert not block.overlaps(other), (block, other)


def test_changed_values_differ_in_few_accounts(template) -> None:
    values = synthetic_stack(100, template).values
    changed = changed_values(values, count=3)
    differing = [
        before["name"]
        for before, after in zip(values["accounts"], changed["accounts"], strict=True)
        if before != after
    ]
    assert len(differing) == 3
    assert {key: value for key, value in changed.items() if key != "accounts"} == {
        key: value for key, value in values.items() if key != "accounts"
    }
