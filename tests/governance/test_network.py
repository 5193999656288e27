"""Network configuration: each invalid input and the exact problem it produces."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance import config
from governance.network import (
    SERVICES,
    NewSubnetConfig,
    carve_subnets,
    carved_block,
)
from governance.problems import ConfigError, Problem
from tests.changes import (
    Change,
    append,
    case_params,
    delete_key,
    problems_after,
    set_key,
)
from tests.conftest import PROD_SECRET_KEYS
from tests.governance.test_budgets import HOSTILE_VALUES, leaf_paths, unexpected_errors

# Indexes of Pulumi.prod.yaml's accounts used below.
SHARED_SERVICES = 2  # existing VPC 10.10.0.0/16 in three zones, six endpoints
PAYMENTS_PROD = 4  # existing VPC 10.20.0.0/16, the organization's endpoints
PAYMENTS_DEV = 8  # new VPC 10.40.0.0/16
SANDBOX = 9  # us-east-1, no network

SHARED = f"accounts.{SHARED_SERVICES}.network"
PROD_VPC = f"accounts.{PAYMENTS_PROD}.network.existingVpc"
DEV_VPC = f"accounts.{PAYMENTS_DEV}.network.newVpc"
SERVICES_ALLOWED = "one of " + ", ".join(sorted(SERVICES))
CIDR_ALLOWED = (
    "an IPv4 network with a prefix length from /16 to /28, for example 10.20.0.0/16"
)


INVALID_CASES: list[tuple[str, list[Change], list[Problem]]] = [
    (
        "unknown service",
        [append(f"{SHARED}.endpoints", "stss")],
        [
            Problem(
                "accounts[2].network.endpoints[6].service",
                "unknown service",
                '"stss"',
                SERVICES_ALLOWED,
                "did you mean sts or states?",
            )
        ],
    ),
    (
        "full service name",
        [append(f"{SHARED}.endpoints", "com.amazonaws.eu-west-1.kms")],
        [
            Problem(
                "accounts[2].network.endpoints[6].service",
                "full service name, but the region part comes from the account's "
                "region",
                '"com.amazonaws.eu-west-1.kms"',
                SERVICES_ALLOWED,
                "write the short name 'kms'",
            )
        ],
    ),
    (
        "same service twice",
        [append(f"{SHARED}.endpoints", "sts")],
        [
            Problem(
                "accounts[2].network.endpoints[6].service",
                "the same service twice in one VPC",
                '"sts"',
                "one endpoint per service, or a distinct name for each endpoint",
                "remove the entry, since endpoints[2] already has sts, or give "
                "a second endpoint a name and privateDns: false",
            )
        ],
    ),
    (
        "same service twice in defaults",
        [append("organization.network.endpoints", "logs")],
        [
            Problem(
                "organization.network.endpoints[4].service",
                "the same service twice in one VPC",
                '"logs"',
                "one endpoint per service, or a distinct name for each endpoint",
                "remove the entry, since endpoints[3] already has logs, or give "
                "a second endpoint a name and privateDns: false",
            )
        ],
    ),
    (
        "second private DNS for a service",
        [append(f"{SHARED}.endpoints", {"service": "sts", "name": "sts-audit"})],
        [
            Problem(
                "accounts[2].network.endpoints[6].privateDns",
                "another interface endpoint for this service already has private "
                "DNS in this VPC",
                "true (the default)",
                "private DNS on one interface endpoint per service and VPC",
                "set privateDns: false here or on endpoints[2]",
            )
        ],
    ),
    (
        "duplicate endpoint name",
        [append(f"{SHARED}.endpoints", {"service": "kms", "name": "sts"})],
        [
            Problem(
                "accounts[2].network.endpoints[6].name",
                "duplicate endpoint name",
                '"sts"',
                "a name used by one endpoint of the VPC only",
                "rename it; endpoints[2] already uses it",
            )
        ],
    ),
    (
        "gateway type for interface service",
        [append(f"{SHARED}.endpoints", {"service": "kms", "type": "Gateway"})],
        [
            Problem(
                "accounts[2].network.endpoints[6].type",
                "kms has no gateway endpoint",
                '"Gateway"',
                "Interface; only dynamodb and s3 have gateway endpoints",
                "remove type, or write Interface",
            )
        ],
    ),
    (
        "endpoint type in lowercase",
        [append(f"{SHARED}.endpoints", {"service": "kms", "type": "interface"})],
        [
            Problem(
                "accounts[2].network.endpoints[6].type",
                "unknown endpoint type",
                '"interface"',
                "Gateway or Interface",
                "write Interface",
            )
        ],
    ),
    (
        "private DNS on gateway endpoint",
        [set_key(f"{SHARED}.endpoints.0", {"service": "s3", "privateDns": True})],
        [
            Problem(
                "accounts[2].network.endpoints[0].privateDns",
                "private DNS applies to interface endpoints only",
                "true",
                "privateDns on an endpoint of type Interface",
                "remove privateDns, or add type: Interface",
            )
        ],
    ),
    (
        "private DNS as a string",
        [set_key(f"{SHARED}.endpoints.2", {"service": "sts", "privateDns": "yes"})],
        [
            Problem(
                "accounts[2].network.endpoints[2].privateDns",
                "Input should be a valid boolean",
                '"yes"',
                "true or false",
                "correct the value",
            )
        ],
    ),
    (
        "policy action of another service",
        [
            set_key(
                f"{SHARED}.endpoints.0",
                {"service": "s3", "policy": {"actions": ["dynamodb:GetItem"]}},
            )
        ],
        [
            Problem(
                "accounts[2].network.endpoints[0].policy.actions[0]",
                "action of another service than s3",
                '"dynamodb:GetItem"',
                "actions starting with s3:",
                "remove the action, because calls to that service do not pass "
                "through this endpoint",
            )
        ],
    ),
    (
        "policy over the size quota",
        [
            set_key(
                f"{SHARED}.endpoints.0",
                {
                    "service": "s3",
                    "policy": {
                        "resources": [
                            f"arn:aws:s3:::bucket-number-{number:04d}-with-a-long-name/*"
                            for number in range(400)
                        ]
                    },
                },
            )
        ],
        [
            Problem(
                "accounts[2].network.endpoints[0].policy",
                "endpoint policy is 21,402 characters, over the 20,480-character quota",
                "400 resources, 0 actions",
                "a policy of at most 20,480 characters, whitespace included",
                "list fewer resources or actions, or use wildcards",
            )
        ],
    ),
    (
        "subnets in a single zone",
        [
            set_key(
                f"{PROD_VPC}.subnets",
                [{"id": "subnet-0223456789abcdef1", "availabilityZone": "eu-west-1a"}],
            )
        ],
        [
            Problem(
                "accounts[4].network.existingVpc.subnets",
                "subnets in a single Availability Zone",
                '["eu-west-1a"]',
                "subnets in at least 2 Availability Zones, one subnet per zone",
                "add a subnet in another zone of eu-west-1",
            )
        ],
    ),
    (
        "two subnets in one zone",
        [
            append(
                f"{PROD_VPC}.subnets",
                {"id": "subnet-0223456789abcdef3", "availabilityZone": "eu-west-1b"},
            )
        ],
        [
            Problem(
                "accounts[4].network.existingVpc.subnets[2].availabilityZone",
                "two subnets in one Availability Zone",
                '"eu-west-1b"',
                "one subnet per Availability Zone, since an interface endpoint takes "
                "one subnet per zone",
                "remove one; subnets[1] is already in eu-west-1b",
            )
        ],
    ),
    (
        "zone of another region",
        [set_key(f"{PROD_VPC}.subnets.1.availabilityZone", "eu-west-2b")],
        [
            Problem(
                "accounts[4].network.existingVpc.subnets[1].availabilityZone",
                "Availability Zone is not in the account's region",
                '"eu-west-2b"',
                "a zone of eu-west-1: eu-west-1 and one letter, for example eu-west-1a",
                "use a zone of eu-west-1, or correct the account's region",
            )
        ],
    ),
    (
        "new VPC zone of another region",
        [set_key(f"{DEV_VPC}.subnets.0.availabilityZone", "us-east-1a")],
        [
            Problem(
                "accounts[8].network.newVpc.subnets[0].availabilityZone",
                "Availability Zone is not in the account's region",
                '"us-east-1a"',
                "a zone of eu-west-1: eu-west-1 and one letter, for example eu-west-1a",
                "use a zone of eu-west-1, or correct the account's region",
            )
        ],
    ),
    (
        "Local Zone",
        [set_key(f"{PROD_VPC}.subnets.1.availabilityZone", "us-east-1-bos-1a")],
        [
            Problem(
                "accounts[4].network.existingVpc.subnets[1].availabilityZone",
                "invalid Availability Zone name",
                '"us-east-1-bos-1a"',
                "the region's name and one letter, for example eu-west-1a (Local "
                "Zones and Wavelength Zones are not supported)",
                "copy the name from `aws ec2 describe-availability-zones`",
            )
        ],
    ),
    (
        "duplicate subnet id",
        [set_key(f"{PROD_VPC}.subnets.1.id", "subnet-0223456789abcdef1")],
        [
            Problem(
                "accounts[4].network.existingVpc.subnets[1].id",
                "duplicate subnet id",
                '"subnet-0223456789abcdef1"',
                "each subnet once",
                "remove the entry; subnets[0] has it",
            )
        ],
    ),
    (
        "malformed VPC id",
        [set_key(f"{PROD_VPC}.id", "vpc-12345")],
        [
            Problem(
                "accounts[4].network.existingVpc.id",
                "invalid VPC id",
                '"vpc-12345"',
                "a VPC id: the prefix and 8 or 17 hexadecimal digits, for example "
                "vpc-0123456789abcdef0",
                "copy the id from the VPC console or `aws ec2 describe-vpcs`",
            )
        ],
    ),
    (
        "VPC of another account",
        [set_key(f"{PROD_VPC}.id", "vpc-0123456789abcdef0")],
        [
            Problem(
                "accounts[4].network.existingVpc.id",
                "VPC is already the network of another account",
                '"vpc-0123456789abcdef0"',
                "a VPC of this account, named by one account entry only",
                "correct the id; accounts[2] (shared-services) has it",
            )
        ],
    ),
    (
        "VPC blocks overlap across accounts",
        [set_key(f"{PROD_VPC}.cidr", "10.10.128.0/17")],
        [
            Problem(
                "accounts[4].network.existingVpc.cidr",
                "VPC CIDR block overlaps the VPC of another account",
                '"10.10.128.0/17"',
                "a block no other VPC of the stack uses, so that the VPCs can be "
                "connected through peering or a transit gateway",
                "choose another block; accounts[2] (shared-services) has 10.10.0.0/16",
            )
        ],
    ),
    (
        "new VPC overlaps existing VPC",
        [set_key(f"{DEV_VPC}.cidr", "10.20.0.0/16")],
        [
            Problem(
                "accounts[8].network.newVpc.cidr",
                "VPC CIDR block overlaps the VPC of another account",
                '"10.20.0.0/16"',
                "a block no other VPC of the stack uses, so that the VPCs can be "
                "connected through peering or a transit gateway",
                "choose another block; accounts[4] (payments-prod) has 10.20.0.0/16",
            )
        ],
    ),
    (
        "overlap beside a misspelt key of the same account",
        [
            set_key(f"{DEV_VPC}.cidr", "10.20.0.0/16"),
            set_key(f"accounts.{PAYMENTS_DEV}.emial", "aws+dev@example.com"),
        ],
        [
            Problem(
                "accounts[8].emial",
                "unknown key",
                'emial: "aws+dev@example.com"',
                "one of budget, deploymentRoleName, email, id, name, network, "
                "organizationalUnit, region, tags",
                "did you mean email?",
            ),
            Problem(
                "accounts[8].network.newVpc.cidr",
                "VPC CIDR block overlaps the VPC of another account",
                '"10.20.0.0/16"',
                "a block no other VPC of the stack uses, so that the VPCs can be "
                "connected through peering or a transit gateway",
                "choose another block; accounts[4] (payments-prod) has 10.20.0.0/16",
            ),
        ],
    ),
    (
        "CIDR with host bits",
        [set_key(f"{PROD_VPC}.cidr", "10.20.0.1/16")],
        [
            Problem(
                "accounts[4].network.existingVpc.cidr",
                "CIDR block has host bits set",
                '"10.20.0.1/16"',
                CIDR_ALLOWED,
                "write the network address: 10.20.0.0/16",
            )
        ],
    ),
    (
        "CIDR with prefix over 32",
        [set_key(f"{PROD_VPC}.cidr", "10.20.0.0/33")],
        [
            Problem(
                "accounts[4].network.existingVpc.cidr",
                "invalid CIDR block",
                '"10.20.0.0/33"',
                CIDR_ALLOWED,
                "write an address, a slash and a length",
            )
        ],
    ),
    (
        "IPv6 CIDR",
        [set_key(f"{PROD_VPC}.cidr", "fd00::/56")],
        [
            Problem(
                "accounts[4].network.existingVpc.cidr",
                "IPv6 CIDR block, but VPCs and subnets need an IPv4 block",
                '"fd00::/56"',
                CIDR_ALLOWED,
                "write an IPv4 block",
            )
        ],
    ),
    (
        "CIDR larger than a VPC",
        [set_key(f"{PROD_VPC}.cidr", "10.0.0.0/8")],
        [
            Problem(
                "accounts[4].network.existingVpc.cidr",
                "prefix length /8 is outside /16 to /28",
                '"10.0.0.0/8"',
                CIDR_ALLOWED,
                "use a prefix length from /16 to /28",
            )
        ],
    ),
    (
        "CIDR as a number",
        [set_key(f"{DEV_VPC}.subnets.0.cidr", 10)],
        [
            Problem(
                "accounts[8].network.newVpc.subnets[0].cidr",
                "CIDR block is not a string",
                "10",
                CIDR_ALLOWED,
                "write it quoted",
            )
        ],
    ),
    (
        "subnet outside the VPC",
        [set_key(f"{DEV_VPC}.subnets.0.cidr", "10.41.0.0/24")],
        [
            Problem(
                "accounts[8].network.newVpc.subnets[0].cidr",
                "subnet is outside the VPC's CIDR block",
                '"10.41.0.0/24"',
                "a block inside 10.40.0.0/16",
                "choose a block inside 10.40.0.0/16, or leave out cidr to have one "
                "carved",
            )
        ],
    ),
    (
        "overlapping subnets",
        [
            set_key(f"{DEV_VPC}.subnets.0.cidr", "10.40.0.0/20"),
            set_key(f"{DEV_VPC}.subnets.1.cidr", "10.40.8.0/24"),
        ],
        [
            Problem(
                "accounts[8].network.newVpc.subnets[1].cidr",
                "subnet CIDR block overlaps another subnet",
                '"10.40.8.0/24"',
                "blocks that no other subnet of the VPC uses",
                "choose another block; subnets[0] has 10.40.0.0/20",
            )
        ],
    ),
    (
        "VPC too small to carve",
        [set_key(f"{DEV_VPC}.cidr", "10.40.0.0/28")],
        [
            Problem(
                "accounts[8].network.newVpc.subnets[1].cidr",
                "no cidr given, and the VPC's block has no carved block for eu-west-1b",
                "nothing",
                "a block inside 10.40.0.0/28; without one, a subnet gets the /28 "
                "block of its zone's letter, and 10.40.0.0/28 has blocks for zone a "
                "only",
                "give the subnet its cidr, or use a larger VPC block",
            )
        ],
    ),
    (
        "zone letter past the carved blocks",
        [
            set_key(f"{DEV_VPC}.cidr", "10.40.0.0/26"),
            set_key(f"{DEV_VPC}.subnets.1.availabilityZone", "eu-west-1e"),
        ],
        [
            Problem(
                "accounts[8].network.newVpc.subnets[1].cidr",
                "no cidr given, and the VPC's block has no carved block for eu-west-1e",
                "nothing",
                "a block inside 10.40.0.0/26; without one, a subnet gets the /28 "
                "block of its zone's letter, and 10.40.0.0/26 has blocks for zones a "
                "to d",
                "give the subnet its cidr, or use a larger VPC block",
            )
        ],
    ),
    (
        "carved block overlaps a given block",
        [set_key(f"{DEV_VPC}.subnets.1.cidr", "10.40.0.0/24")],
        [
            Problem(
                "accounts[8].network.newVpc.subnets[0].cidr",
                "no cidr given, and the block carved for eu-west-1a, 10.40.0.0/20, "
                "overlaps another subnet",
                "nothing",
                "blocks that no other subnet of the VPC uses",
                "give the subnet its cidr, or choose another block for subnets[1], "
                "which has 10.40.0.0/24",
            )
        ],
    ),
    (
        "gateway endpoints without route tables",
        [set_key(f"{PROD_VPC}.routeTableIds", [])],
        [
            Problem(
                "accounts[4].network.existingVpc.routeTableIds",
                "gateway endpoints need route tables",
                "[]",
                "the ids of the route tables of the subnets that use dynamodb and s3",
                "list the route table ids, or set type: Interface on those endpoints",
            )
        ],
    ),
    (
        "network without VPC",
        [delete_key(f"accounts.{PAYMENTS_DEV}.network.newVpc")],
        [
            Problem(
                "accounts[8].network",
                "network names no VPC",
                "{}",
                "either existingVpc or newVpc",
                "add existingVpc for a VPC that exists, or newVpc to create one",
            )
        ],
    ),
    (
        "subnet id in new VPC",
        [set_key(f"{DEV_VPC}.subnets.0.id", "subnet-0823456789abcdef1")],
        [
            Problem(
                "accounts[8].network.newVpc.subnets[0].id",
                "unknown key",
                'id: "subnet-0823456789abcdef1"',
                "one of availabilityZone, cidr",
                "did you mean cidr?",
            )
        ],
    ),
]


@pytest.mark.parametrize(("changes", "expected"), case_params(INVALID_CASES))
def test_invalid_network(
    prod_values: dict[str, Any], changes: list[Change], expected: list[Problem]
) -> None:
    assert problems_after(prod_values, changes) == expected


def test_network_with_two_vpcs(prod_values: dict[str, Any]) -> None:
    network = prod_values["accounts"][PAYMENTS_DEV]["network"]
    network["existingVpc"] = copy.deepcopy(
        prod_values["accounts"][PAYMENTS_PROD]["network"]["existingVpc"]
    )
    with pytest.raises(ConfigError) as raised:
        config.load(prod_values, PROD_SECRET_KEYS)
    [problem] = raised.value.problems
    assert problem.path == "accounts[8].network"
    assert problem.message == "network names two VPCs"
    assert problem.fix == "remove existingVpc or newVpc"


def test_china_partition_rejected() -> None:
    values = {
        "organization": {
            "id": "o-7k2m9x4q1z",
            "rootId": "r-7k2m",
            "managementAccountId": "900000000001",
            "managementRoleName": "OrgGovernanceDeploymentRole",
            "defaultRegion": "cn-north-1",
            "organizationalUnits": [{"name": "workloads", "id": "ou-7k2m-j9k0l1m2"}],
        },
        "accounts": [
            {
                "name": "payments-cn",
                "id": "012345678901",
                "organizationalUnit": "workloads",
                "network": {
                    "newVpc": {
                        "cidr": "10.40.0.0/16",
                        "subnets": [
                            {"availabilityZone": "cn-north-1a"},
                            {"availabilityZone": "cn-north-1b"},
                        ],
                    },
                    "endpoints": ["sts"],
                },
            }
        ],
    }
    with pytest.raises(ConfigError) as raised:
        config.load(values, PROD_SECRET_KEYS)
    assert raised.value.problems == [
        Problem(
            "accounts[0].network",
            "VPC endpoints are not supported in the aws-cn partition",
            '"cn-north-1"',
            "an account in a region of the aws or aws-us-gov partition, where "
            "endpoint service names are com.amazonaws.<region>.<service>",
            "remove network from this account",
        )
    ]


def test_defaults_apply_without_endpoints(prod_values: dict[str, Any]) -> None:
    organization = config.load(prod_values, PROD_SECRET_KEYS)
    names = {
        account.name: [endpoint.name for endpoint in account.network.endpoints]
        for account in organization.accounts
        if account.network is not None
    }
    assert names == {
        "orders-prod": ["dynamodb", "logs", "s3", "sts"],
        "orders-staging": ["dynamodb", "logs", "s3", "sts"],
        "payments-dev": ["dynamodb", "logs", "s3", "sts"],
        "payments-prod": ["dynamodb", "logs", "s3", "sts"],
        "payments-staging": ["dynamodb", "logs", "s3", "sts"],
        "shared-services": [
            "dynamodb",
            "logs",
            "s3",
            "secretsmanager",
            "ssm",
            "sts",
        ],
    }


def test_empty_endpoint_list_overrides_defaults(prod_values: dict[str, Any]) -> None:
    prod_values["accounts"][PAYMENTS_PROD]["network"]["endpoints"] = []
    account = config.load(prod_values, PROD_SECRET_KEYS).account_by_name[
        "payments-prod"
    ]
    assert account.network is not None
    assert account.network.endpoints == ()


def test_second_interface_endpoint_without_dns(prod_values: dict[str, Any]) -> None:
    prod_values["accounts"][SHARED_SERVICES]["network"]["endpoints"].append(
        {"service": "s3", "name": "s3-onprem", "type": "Interface"}
    )
    account = config.load(prod_values, PROD_SECRET_KEYS).account_by_name[
        "shared-services"
    ]
    assert account.network is not None
    by_name = {endpoint.name: endpoint for endpoint in account.network.endpoints}
    assert by_name["s3"].type == "Gateway"
    assert by_name["s3"].private_dns is False
    assert by_name["s3-onprem"].type == "Interface"
    assert by_name["s3-onprem"].private_dns is True


def test_carve_subnets_by_zone_letter() -> None:
    subnets = [
        NewSubnetConfig.model_validate({"availabilityZone": "eu-west-1c"}),
        NewSubnetConfig.model_validate(
            {"availabilityZone": "eu-west-1b", "cidr": "10.40.128.0/20"}
        ),
        NewSubnetConfig.model_validate({"availabilityZone": "eu-west-1a"}),
    ]
    assert carve_subnets("10.40.0.0/16", subnets) == {
        "eu-west-1a": "10.40.0.0/20",
        "eu-west-1b": "10.40.128.0/20",
        "eu-west-1c": "10.40.32.0/20",
    }


def test_carve_subnets_of_smallest_vpc() -> None:
    subnets = [
        NewSubnetConfig.model_validate({"availabilityZone": "eu-west-1a"}),
        NewSubnetConfig.model_validate({"availabilityZone": "eu-west-1b"}),
    ]
    assert carve_subnets("10.40.0.0/27", subnets) == {
        "eu-west-1a": "10.40.0.0/28",
        "eu-west-1b": "10.40.0.16/28",
    }
    assert carved_block("10.40.0.0/28", "eu-west-1a") == "10.40.0.0/28"
    assert carved_block("10.40.0.0/28", "eu-west-1b") is None
    with pytest.raises(
        ValueError, match=r"no carved block in 10\.40\.0\.0/28 for eu-west-1b"
    ):
        carve_subnets("10.40.0.0/28", subnets)


def test_carved_block_of_last_letter() -> None:
    assert carved_block("10.40.0.0/16", "eu-west-1p") == "10.40.240.0/20"
    assert carved_block("10.40.0.0/16", "eu-west-1q") is None


def _dev_subnets(values: dict[str, Any], zones: list[str]) -> dict[str, str]:
    """Give payments-dev's new VPC one subnet per zone; return the loaded blocks."""
    values["accounts"][PAYMENTS_DEV]["network"]["newVpc"]["subnets"] = [
        {"availabilityZone": zone} for zone in zones
    ]
    account = config.load(values, PROD_SECRET_KEYS).account_by_name["payments-dev"]
    assert account.network is not None
    return {
        subnet.availability_zone: str(subnet.cidr) for subnet in account.network.subnets
    }


def test_adding_zone_keeps_other_blocks(prod_values: dict[str, Any]) -> None:
    before = _dev_subnets(copy.deepcopy(prod_values), ["eu-west-1b", "eu-west-1c"])
    after = _dev_subnets(prod_values, ["eu-west-1b", "eu-west-1c", "eu-west-1a"])
    assert before == {
        "eu-west-1b": "10.40.16.0/20",
        "eu-west-1c": "10.40.32.0/20",
    }
    assert after == {
        "eu-west-1a": "10.40.0.0/20",
        "eu-west-1b": "10.40.16.0/20",
        "eu-west-1c": "10.40.32.0/20",
    }


def test_removing_zone_keeps_other_blocks(prod_values: dict[str, Any]) -> None:
    before = _dev_subnets(
        copy.deepcopy(prod_values), ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    )
    after = _dev_subnets(prod_values, ["eu-west-1a", "eu-west-1c"])
    assert after == {
        "eu-west-1a": before["eu-west-1a"],
        "eu-west-1c": before["eu-west-1c"],
    }


@given(
    vpc=st.sampled_from(["10.40.0.0/16", "10.40.0.0/20", "10.40.0.0/24"]),
    first=st.sets(st.sampled_from("abcdefghijklmnop"), min_size=1),
    second=st.sets(st.sampled_from("abcdefghijklmnop"), min_size=1),
)
def test_zone_block_independent_of_other_zones(
    vpc: str, first: set[str], second: set[str]
) -> None:
    def blocks(letters: set[str]) -> dict[str, str]:
        subnets = [
            NewSubnetConfig.model_validate({"availabilityZone": f"eu-west-1{letter}"})
            for letter in sorted(letters)
        ]
        return carve_subnets(vpc, subnets)

    first_blocks, second_blocks = blocks(first), blocks(second)
    for zone in sorted(first_blocks.keys() & second_blocks.keys()):
        assert first_blocks[zone] == second_blocks[zone], zone
    assert len(set(first_blocks.values())) == len(first_blocks), "zones share a block"


def test_sandbox_has_no_network(prod_values: dict[str, Any]) -> None:
    organization = config.load(prod_values, PROD_SECRET_KEYS)
    assert organization.account_by_name["sandbox"].network is None
    assert "network" not in prod_values["accounts"][SANDBOX]


@pytest.mark.parametrize(
    "hostile",
    [
        *HOSTILE_VALUES,
        pytest.param("10.40.0.0/" + "9" * 5000, id="prefix of 5000 digits"),
        pytest.param("eu-west-1" + "a" * 5000, id="zone of 5000 letters"),
    ],
)
def test_hostile_value_anywhere_in_networks(
    prod_values: dict[str, Any], hostile: Any
) -> None:
    paths = leaf_paths(prod_values["organization"]["network"], "organization.network")
    for index in (SHARED_SERVICES, PAYMENTS_DEV):
        network = prod_values["accounts"][index]["network"]
        paths.extend(leaf_paths(network, f"accounts.{index}.network"))
    assert unexpected_errors(prod_values, paths, hostile) == []
