"""Synthetic organizations of any size, with the sample stack's mix of features.

`synthetic_values(count)` copies the accounts of `Pulumi.prod.yaml` in turn until
there are `count` of them, so a large organization has the sample's proportions of
organizational units, execution role targets, VPCs (existing and created), VPC
endpoints and budgets. The organization's settings, execution roles and layers are
the sample's, so layers are zipped once per run from the sample layer directories
whatever the number of accounts.
"""

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path
from typing import Any

from governance.stack_config import StackConfig, read_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_STACK = "prod"

# Every VPC gets its own /22 of 10.0.0.0/8, so no two VPCs overlap: 16,384 blocks,
# enough for the VPCs of 20,000 accounts at the sample's 6 VPCs per 10 accounts.
VPC_SUPERNET = ipaddress.ip_network("10.0.0.0/8")
VPC_PREFIX = 22
# Ids of copied accounts start here; the sample's own ids are kept for the first copy.
FIRST_ACCOUNT_ID = 100_000_000_000
# A role that trusts a unit names every account of the unit as a principal, so its
# trust policy grows with the unit and passes IAM's 8,192-character maximum at about
# 230 accounts. Copies of the accounts of the trusted unit go to a unit of their own,
# which keeps the sample's trust policies and gives each copy the same resources.
TRUSTED_UNIT = "infrastructure"
COPIES_UNIT = {"name": "infrastructure-copies", "id": "ou-7k2m-c0p1e5aa"}


def template_stack(project_dir: Path = PROJECT_DIR) -> StackConfig:
    """Read the sample stack the synthetic organizations are copied from."""
    return read_stack(project_dir, TEMPLATE_STACK)


def synthetic_values(count: int, template: StackConfig) -> dict[str, Any]:
    """Return the namespace values of an organization of `count` accounts.

    Copy `i` of a sample account is named `<name>-<i>` (the first copy keeps the
    sample's name, so the execution roles' trusted accounts and the layers' owner
    resolve), with a unique 12-digit id and its own /22 VPC block. Raises
    ValueError for fewer accounts than the sample has, since the accounts its
    roles and layers name would be missing.
    """
    if count < len(template.values["accounts"]):
        raise ValueError(
            f"a synthetic organization has at least "
            f"{len(template.values['accounts'])} accounts, the sample's; got {count}"
        )
    values = copy.deepcopy(template.values)
    values["organization"]["organizationalUnits"].append(dict(COPIES_UNIT))
    samples = values["accounts"]
    accounts = []
    vpc_blocks = VPC_SUPERNET.subnets(new_prefix=VPC_PREFIX)
    for index in range(count):
        sample = samples[index % len(samples)]
        replica = index // len(samples)
        account = copy.deepcopy(sample)
        if replica:
            account["name"] = f"{sample['name']}-{replica}"
            account["id"] = f"{FIRST_ACCOUNT_ID + index:012d}"
            account["email"] = f"aws+{account['name']}@example.com"
            if account["organizationalUnit"] == TRUSTED_UNIT:
                account["organizationalUnit"] = COPIES_UNIT["name"]
        if "network" in account:
            _renumber_network(account["network"], index, next(vpc_blocks))
        accounts.append(account)
    values["accounts"] = accounts
    return values


def _renumber_network(
    network: dict[str, Any], index: int, block: ipaddress.IPv4Network
) -> None:
    """Give a copied network its own VPC block and resource ids."""
    existing = network.get("existingVpc")
    if existing is not None:
        existing["id"] = f"vpc-{index:017x}"
        existing["cidr"] = str(block)
        for position, subnet in enumerate(existing["subnets"]):
            subnet["id"] = f"subnet-{index:015x}{position:02x}"
        existing["routeTableIds"] = [
            f"rtb-{index:015x}{position:02x}"
            for position in range(len(existing.get("routeTableIds", [])))
        ]
    created = network.get("newVpc")
    if created is not None:
        created["cidr"] = str(block)
        for subnet in created["subnets"]:
            subnet.pop("cidr", None)


def synthetic_stack(count: int, template: StackConfig) -> StackConfig:
    """Return a stack of `count` synthetic accounts, named `bench-<count>`."""
    return StackConfig(
        project=template.project,
        stack=f"bench-{count}",
        values=synthetic_values(count, template),
        other=dict(template.other),
        secret_keys=template.secret_keys,
    )


def changed_values(values: dict[str, Any], count: int = 3) -> dict[str, Any]:
    """Return a second version of an organization in which `count` accounts differ.

    The changed accounts are spread over the list. Each gets a tag and a budget
    limit of its own, as a routine change of a few accounts would. The semantic
    diff measurement compares the two versions.
    """
    changed = copy.deepcopy(values)
    accounts = changed["accounts"]
    step = max(1, len(accounts) // count)
    for index in range(0, min(count * step, len(accounts)), step):
        account = accounts[index]
        account["tags"] = {**account.get("tags", {}), "CostReview": "2026-q3"}
        budget = account.setdefault("budget", {})
        budget["limitUsd"] = 7500 + index
    return changed
