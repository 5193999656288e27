"""The checks across accounts' VPCs against a reference that compares every pair."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from governance.network import _check_across_accounts, _Vpc
from governance.problems import Problem, show


def reference(vpcs: list[_Vpc]) -> list[Problem]:
    """Compare each VPC with every earlier one, in stack order."""
    problems = []
    for position, vpc in enumerate(vpcs):
        for earlier in vpcs[:position]:
            if vpc.id is not None and vpc.id == earlier.id:
                problems.append(
                    Problem(
                        f"{vpc.path}.id",
                        "VPC is already the network of another account",
                        show(vpc.id),
                        "a VPC of this account, named by one account entry only",
                        f"correct the id; accounts[{earlier.index}] "
                        f"({earlier.account}) has it",
                    )
                )
            if ipaddress.ip_network(vpc.cidr).overlaps(
                ipaddress.ip_network(earlier.cidr)
            ):
                problems.append(
                    Problem(
                        f"{vpc.path}.cidr",
                        "VPC CIDR block overlaps the VPC of another account",
                        show(vpc.cidr),
                        "a block no other VPC of the stack uses, so that the VPCs "
                        "can be connected through peering or a transit gateway",
                        f"choose another block; accounts[{earlier.index}] "
                        f"({earlier.account}) has {earlier.cidr}",
                    )
                )
    return problems


def vpc(index: int, cidr: str, vpc_id: str | None = None) -> _Vpc:
    return _Vpc(
        index,
        f"account-{index}",
        f"accounts[{index}].network.existingVpc",
        vpc_id,
        cidr,
    )


# Blocks from a small space, so that nested, equal and disjoint blocks all occur.
blocks = st.builds(
    lambda address, prefix: str(ipaddress.ip_network((address, prefix), strict=False)),
    st.integers(0, 2**12 - 1).map(lambda value: 0x0A000000 + (value << 8)),
    st.integers(16, 24),
)
vpc_lists = st.lists(
    st.tuples(blocks, st.sampled_from([None, "vpc-00000001", "vpc-00000002"])),
    max_size=12,
).map(
    lambda entries: [vpc(i, cidr, vpc_id) for i, (cidr, vpc_id) in enumerate(entries)]
)


@given(vpc_lists)
def test_across_accounts_matches_every_pair(vpcs: list[_Vpc]) -> None:
    assert _check_across_accounts(vpcs) == reference(vpcs)


def test_three_accounts_one_vpc_id() -> None:
    vpcs = [
        vpc(0, "10.0.0.0/16", "vpc-00000001"),
        vpc(1, "10.1.0.0/16", "vpc-00000001"),
        vpc(2, "10.2.0.0/16", "vpc-00000001"),
    ]
    found = [(problem.path, problem.fix) for problem in _check_across_accounts(vpcs)]
    assert found == [
        (
            "accounts[1].network.existingVpc.id",
            "correct the id; accounts[0] (account-0) has it",
        ),
        (
            "accounts[2].network.existingVpc.id",
            "correct the id; accounts[0] (account-0) has it",
        ),
        (
            "accounts[2].network.existingVpc.id",
            "correct the id; accounts[1] (account-1) has it",
        ),
    ]


def test_nested_blocks_each_overlap() -> None:
    vpcs = [
        vpc(0, "10.0.4.0/24"),
        vpc(1, "10.0.0.0/16"),
        vpc(2, "10.0.0.0/22"),
        vpc(3, "10.1.0.0/16"),
    ]
    found = [(problem.path, problem.fix) for problem in _check_across_accounts(vpcs)]
    assert found == [
        (
            "accounts[1].network.existingVpc.cidr",
            "choose another block; accounts[0] (account-0) has 10.0.4.0/24",
        ),
        (
            "accounts[2].network.existingVpc.cidr",
            "choose another block; accounts[1] (account-1) has 10.0.0.0/16",
        ),
    ]
