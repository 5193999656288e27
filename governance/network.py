"""Each account's VPC and its endpoints: configuration models, checks and defaults.

An account's `network` either names an existing VPC (`existingVpc`: its id, CIDR
block, private subnets with their Availability Zones, route tables) or gives a CIDR
block from which the program creates a private VPC (`newVpc`). Its `endpoints` list
AWS services by short name (`sts`, `ecr.api`); an account that leaves the list out
gets `organization.network.endpoints`.

`check_networks` returns every problem the field checks cannot see: Availability
Zones of another region, overlapping CIDR blocks, the same service twice in a VPC,
two endpoints with private DNS for one service, a policy over its size quota.
`resolve_network` turns a checked configuration into a `Network` with every default
applied, which is what the plan reads.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictBool, model_validator

from governance import aws_formats, policy
from governance.fields import Model, _pattern_check, invalid, suggest
from governance.problems import Problem, show

GATEWAY = "Gateway"
INTERFACE = "Interface"

# Interface endpoints go into at least this many Availability Zones, so one zone's
# outage leaves the services reachable.
MIN_AVAILABILITY_ZONES = 2

# Subnets of a created VPC that give no CIDR block get a block 4 bits longer than
# the VPC's (a /16 gives /20 subnets), chosen by the zone's letter: a /16 has
# blocks for zones a to p.
CARVED_SUBNET_EXTRA_BITS = 4

# The statement every endpoint policy has: any principal of the organization.
ORGANIZATION_SID = "AllowOrganizationPrincipals"


@dataclass(frozen=True)
class ServiceInfo:
    """Facts about one AWS service's VPC endpoint that the checks and the plan use."""

    action_prefix: str
    has_gateway: bool = False


# Services this program creates endpoints for, by the short name that ends their
# endpoint service name (com.amazonaws.<region>.<short name>), with the prefix of
# their IAM actions. Only S3 and DynamoDB have gateway endpoints.
SERVICES: Mapping[str, ServiceInfo] = {
    "dynamodb": ServiceInfo("dynamodb", has_gateway=True),
    "ec2": ServiceInfo("ec2"),
    "ecr.api": ServiceInfo("ecr"),
    "ecr.dkr": ServiceInfo("ecr"),
    "events": ServiceInfo("events"),
    "execute-api": ServiceInfo("execute-api"),
    "kinesis-streams": ServiceInfo("kinesis"),
    "kms": ServiceInfo("kms"),
    "lambda": ServiceInfo("lambda"),
    "logs": ServiceInfo("logs"),
    "monitoring": ServiceInfo("cloudwatch"),
    "s3": ServiceInfo("s3", has_gateway=True),
    "secretsmanager": ServiceInfo("secretsmanager"),
    "sns": ServiceInfo("sns"),
    "sqs": ServiceInfo("sqs"),
    "ssm": ServiceInfo("ssm"),
    "states": ServiceInfo("states"),
    "sts": ServiceInfo("sts"),
}

# Endpoint name: part of resource names and the key of the stack output.
ENDPOINT_NAME = re.compile(r"^[a-z][a-z0-9.-]{0,39}\Z")


def check_service(value: Any) -> str:
    """Accept a short service name of `SERVICES`, and explain a rejected name."""
    known = sorted(SERVICES)
    allowed = "one of " + ", ".join(known)
    if not isinstance(value, str):
        raise invalid("service is not a string", allowed, "write the short name")
    if value in SERVICES:
        return value
    if value.startswith("com.amazonaws."):
        short = value.split(".", 3)[-1]
        raise invalid(
            "full service name, but the region part comes from the account's region",
            allowed,
            f"write the short name {short!r}",
        )
    raise invalid(
        "unknown service",
        allowed,
        suggest(value, known, "use one of the services listed"),
    )


def check_endpoint_type(value: Any) -> str:
    """Accept "Gateway" or "Interface", as EC2 spells them."""
    allowed = f"{GATEWAY} or {INTERFACE}"
    if value in (GATEWAY, INTERFACE):
        return value
    fix = "write Gateway or Interface"
    if isinstance(value, str) and value.capitalize() in (GATEWAY, INTERFACE):
        fix = f"write {value.capitalize()}"
    raise invalid("unknown endpoint type", allowed, fix)


def check_cidr(value: Any) -> str:
    """Accept an IPv4 network from /16 to /28 written with its network address."""
    low, high = aws_formats.VPC_CIDR_MIN_PREFIX, aws_formats.VPC_CIDR_MAX_PREFIX
    allowed = (
        f"an IPv4 network with a prefix length from /{low} to /{high}, "
        "for example 10.20.0.0/16"
    )
    if not isinstance(value, str):
        raise invalid("CIDR block is not a string", allowed, "write it quoted")
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise invalid(
            "invalid CIDR block", allowed, "write an address, a slash and a length"
        ) from None
    if network.version != 4:
        raise invalid(
            "IPv6 CIDR block, but VPCs and subnets need an IPv4 block",
            allowed,
            "write an IPv4 block",
        )
    if str(network) != value:
        raise invalid(
            "CIDR block has host bits set",
            allowed,
            f"write the network address: {network}",
        )
    if not low <= network.prefixlen <= high:
        raise invalid(
            f"prefix length /{network.prefixlen} is outside /{low} to /{high}",
            allowed,
            f"use a prefix length from /{low} to /{high}",
        )
    return value


def _id_type(what: str, pattern: Any, example: str) -> Any:
    return Annotated[
        str,
        BeforeValidator(
            _pattern_check(
                what,
                pattern,
                f"a {what}: the prefix and 8 or 17 hexadecimal digits, "
                f"for example {example}",
                "copy the id from the VPC console or `aws ec2 describe-vpcs`",
            )
        ),
    ]


VpcId = _id_type("VPC id", aws_formats.VPC_ID, "vpc-0123456789abcdef0")
SubnetId = _id_type("subnet id", aws_formats.SUBNET_ID, "subnet-0123456789abcdef0")
RouteTableId = _id_type(
    "route table id", aws_formats.ROUTE_TABLE_ID, "rtb-0123456789abcdef0"
)
AvailabilityZone = Annotated[
    str,
    BeforeValidator(
        _pattern_check(
            "Availability Zone name",
            aws_formats.AVAILABILITY_ZONE,
            "the region's name and one letter, for example eu-west-1a "
            "(Local Zones and Wavelength Zones are not supported)",
            "copy the name from `aws ec2 describe-availability-zones`",
        )
    ),
]
Cidr = Annotated[str, BeforeValidator(check_cidr)]
Service = Annotated[str, BeforeValidator(check_service)]
EndpointType = Annotated[str, BeforeValidator(check_endpoint_type)]
EndpointName = Annotated[
    str,
    BeforeValidator(
        _pattern_check(
            "endpoint name",
            ENDPOINT_NAME,
            "1-40 lowercase letters, digits, dots and hyphens, starting with a letter",
            "rename it, for example s3-onprem",
        )
    ),
]
IamAction = Annotated[
    str,
    BeforeValidator(
        _pattern_check(
            "IAM action",
            aws_formats.IAM_ACTION,
            "a service prefix, a colon and an action name that may use * and ?, "
            "for example secretsmanager:GetSecretValue",
            "write the action as IAM spells it",
        )
    ),
]
ResourceArn = Annotated[
    str,
    BeforeValidator(
        _pattern_check(
            "resource ARN",
            aws_formats.ARN,
            "an ARN, for example arn:aws:s3:::example-bucket/*",
            "write the ARN of the resource",
        )
    ),
]


class EndpointPolicyConfig(Model):
    """Narrowing of an endpoint's policy: the actions and resources it allows."""

    actions: list[IamAction] | None = Field(default=None, min_length=1)
    resources: list[ResourceArn] | None = Field(default=None, min_length=1)


class EndpointConfig(Model):
    """One VPC endpoint. A plain string in the list is read as its `service`."""

    service: Service
    name: EndpointName | None = None
    type: EndpointType | None = None
    private_dns: StrictBool | None = None
    policy: EndpointPolicyConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_short_name(cls, value: Any) -> Any:
        return {"service": value} if isinstance(value, str) else value


class ExistingSubnetConfig(Model):
    """A private subnet of an existing VPC and its Availability Zone."""

    id: SubnetId
    availability_zone: AvailabilityZone


class ExistingVpcConfig(Model):
    """A VPC that exists already: the program only adds endpoints to it."""

    id: VpcId
    cidr: Cidr
    subnets: list[ExistingSubnetConfig]
    route_table_ids: list[RouteTableId] = Field(default_factory=list)


class NewSubnetConfig(Model):
    """A private subnet the program creates, with an optional CIDR block."""

    availability_zone: AvailabilityZone
    cidr: Cidr | None = None


class NewVpcConfig(Model):
    """A private VPC the program creates, without internet or NAT gateway."""

    cidr: Cidr
    subnets: list[NewSubnetConfig]


class NetworkConfig(Model):
    """An account's VPC, existing or created, and the endpoints it gets."""

    existing_vpc: ExistingVpcConfig | None = None
    new_vpc: NewVpcConfig | None = None
    endpoints: list[EndpointConfig] | None = None

    @model_validator(mode="after")
    def _one_vpc(self) -> NetworkConfig:
        allowed = "either existingVpc or newVpc"
        if self.existing_vpc is None and self.new_vpc is None:
            raise invalid(
                "network names no VPC",
                allowed,
                "add existingVpc for a VPC that exists, or newVpc to create one",
            )
        if self.existing_vpc is not None and self.new_vpc is not None:
            raise invalid(
                "network names two VPCs", allowed, "remove existingVpc or newVpc"
            )
        return self


class NetworkDefaults(Model):
    """Organization-wide network settings: the endpoints an account gets by default."""

    endpoints: list[EndpointConfig] = Field(default_factory=list)


@dataclass(frozen=True)
class Subnet:
    """A private subnet: its zone, and its id (existing) or CIDR block (created)."""

    availability_zone: str
    id: str | None = None
    cidr: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """A checked endpoint with its type, name and private DNS resolved."""

    name: str
    service: str
    type: Literal["Gateway", "Interface"]
    private_dns: bool
    actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None


@dataclass(frozen=True)
class Network:
    """An account's checked network; `vpc_id` is None when the program creates it.

    Subnets are sorted by Availability Zone and endpoints by name.
    """

    vpc_id: str | None
    cidr: str
    subnets: tuple[Subnet, ...]
    route_table_ids: tuple[str, ...]
    endpoints: tuple[Endpoint, ...]


def endpoint_type(endpoint: EndpointConfig) -> str:
    """Return the endpoint's type: as written, else Gateway where the service has it."""
    if endpoint.type is not None:
        return endpoint.type
    return GATEWAY if SERVICES[endpoint.service].has_gateway else INTERFACE


def has_private_dns(endpoint: EndpointConfig) -> bool:
    """Say whether an endpoint gets private DNS: interface endpoints by default."""
    if endpoint_type(endpoint) != INTERFACE:
        return False
    return True if endpoint.private_dns is None else endpoint.private_dns


def endpoint_policy(
    organization_id: str,
    actions: Sequence[str] | None = None,
    resources: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Build an endpoint policy that allows only principals of the organization.

    `actions` and `resources`, when given, narrow it; left out, they are "*".
    Equal arguments return the same document object, which callers must not change.
    """
    return _endpoint_policy(
        organization_id,
        tuple(actions) if actions else None,
        tuple(resources) if resources else None,
    )


# Most endpoints of an organization share a policy, and building one is the cost.
@functools.lru_cache(maxsize=1024)
def _endpoint_policy(
    organization_id: str,
    actions: tuple[str, ...] | None,
    resources: tuple[str, ...] | None,
) -> dict[str, Any]:
    return policy.policy(
        {
            "Sid": ORGANIZATION_SID,
            "Effect": "Allow",
            "Principal": "*",
            "Action": list(actions) if actions else "*",
            "Resource": list(resources) if resources else "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id}},
        }
    )


def _endpoint_policy_of(organization_id: str, endpoint: EndpointConfig) -> dict:
    narrowing = endpoint.policy or EndpointPolicyConfig()
    return endpoint_policy(organization_id, narrowing.actions, narrowing.resources)


def check_endpoints(
    endpoints: Sequence[EndpointConfig], path: str, organization_id: str | None
) -> list[Problem]:
    """Check one VPC's endpoint list, found at the config path `path`.

    Reports a type the service lacks, private DNS on a gateway endpoint, actions of
    another service, a policy over 20,480 characters, the same service twice, a
    name used twice and a second endpoint with private DNS for one service.
    """
    problems: list[Problem] = []
    names: dict[str, int] = {}
    private_dns: dict[str, int] = {}
    for index, endpoint in enumerate(endpoints):
        at = f"{path}[{index}]"
        problems.extend(_check_endpoint(endpoint, at, organization_id))
        name = endpoint.name or endpoint.service
        if name in names:
            first = endpoints[names[name]]
            problems.append(_duplicate(endpoint, first, at, names[name], path))
            # A duplicate is reported once, not again for its private DNS.
            continue
        names[name] = index
        if has_private_dns(endpoint):
            if endpoint.service in private_dns:
                other = f"{path.rsplit('.', 1)[-1]}[{private_dns[endpoint.service]}]"
                problems.append(
                    Problem(
                        f"{at}.privateDns",
                        "another interface endpoint for this service already has "
                        "private DNS in this VPC",
                        "true" if endpoint.private_dns else "true (the default)",
                        "private DNS on one interface endpoint per service and VPC",
                        f"set privateDns: false here or on {other}",
                    )
                )
            private_dns.setdefault(endpoint.service, index)
    return problems


def _duplicate(
    endpoint: EndpointConfig, first: EndpointConfig, at: str, index: int, path: str
) -> Problem:
    other = f"{path.rsplit('.', 1)[-1]}[{index}]"
    if endpoint.service == first.service:
        return Problem(
            f"{at}.service",
            "the same service twice in one VPC",
            show(endpoint.service),
            "one endpoint per service, or a distinct name for each endpoint",
            f"remove the entry, since {other} already has {endpoint.service}, or "
            "give a second endpoint a name and privateDns: false",
        )
    return Problem(
        f"{at}.name",
        "duplicate endpoint name",
        show(endpoint.name),
        "a name used by one endpoint of the VPC only",
        f"rename it; {other} already uses it",
    )


def _check_endpoint(
    endpoint: EndpointConfig, at: str, organization_id: str | None
) -> list[Problem]:
    problems = []
    info = SERVICES[endpoint.service]
    gateways = " and ".join(
        name for name, item in sorted(SERVICES.items()) if item.has_gateway
    )
    if endpoint.type == GATEWAY and not info.has_gateway:
        problems.append(
            Problem(
                f"{at}.type",
                f"{endpoint.service} has no gateway endpoint",
                show(endpoint.type),
                f"Interface; only {gateways} have gateway endpoints",
                "remove type, or write Interface",
            )
        )
    if endpoint.private_dns is not None and endpoint_type(endpoint) == GATEWAY:
        problems.append(
            Problem(
                f"{at}.privateDns",
                "private DNS applies to interface endpoints only",
                show(endpoint.private_dns),
                "privateDns on an endpoint of type Interface",
                "remove privateDns, or add type: Interface",
            )
        )
    actions = endpoint.policy.actions if endpoint.policy else None
    for number, action in enumerate(actions or []):
        prefix = action.split(":", 1)[0]
        if prefix != info.action_prefix:
            problems.append(
                Problem(
                    f"{at}.policy.actions[{number}]",
                    f"action of another service than {endpoint.service}",
                    show(action),
                    f"actions starting with {info.action_prefix}:",
                    "remove the action, because calls to that service do not pass "
                    "through this endpoint",
                )
            )
    if organization_id is not None and endpoint.policy is not None:
        text = policy.to_json(_endpoint_policy_of(organization_id, endpoint))
        limit = aws_formats.ENDPOINT_POLICY_MAX_LENGTH
        if len(text) > limit:
            problems.append(
                Problem(
                    f"{at}.policy",
                    f"endpoint policy is {len(text):,} characters, over the "
                    f"{limit:,}-character quota",
                    f"{len(endpoint.policy.resources or [])} resources, "
                    f"{len(actions or [])} actions",
                    f"a policy of at most {limit:,} characters, whitespace included",
                    "list fewer resources or actions, or use wildcards",
                )
            )
    return problems


def check_availability_zones(
    zones: Sequence[str], path: str, region: str | None
) -> list[Problem]:
    """Check the zones of a VPC's subnets: in the region, one subnet per zone, two+.

    `zones` contains each subnet's zone in list order and `path` is the subnet list.
    """
    problems = []
    seen: dict[str, int] = {}
    for index, zone in enumerate(zones):
        at = f"{path}[{index}].availabilityZone"
        if region is not None and not (
            zone.startswith(region) and len(zone) == len(region) + 1
        ):
            problems.append(
                Problem(
                    at,
                    "Availability Zone is not in the account's region",
                    show(zone),
                    f"a zone of {region}: {region} and one letter, "
                    f"for example {region}a",
                    f"use a zone of {region}, or correct the account's region",
                )
            )
        if zone in seen:
            problems.append(
                Problem(
                    at,
                    "two subnets in one Availability Zone",
                    show(zone),
                    "one subnet per Availability Zone, since an interface endpoint "
                    "takes one subnet per zone",
                    f"remove one; subnets[{seen[zone]}] is already in {zone}",
                )
            )
        seen.setdefault(zone, index)
    if len(seen) < MIN_AVAILABILITY_ZONES:
        problems.append(
            Problem(
                path,
                "subnets in a single Availability Zone" if seen else "no subnets",
                show(sorted(seen)),
                f"subnets in at least {MIN_AVAILABILITY_ZONES} Availability Zones, "
                "one subnet per zone",
                f"add a subnet in another zone of {region or 'the region'}",
            )
        )
    return problems


def _carved_prefix(vpc: ipaddress.IPv4Network | ipaddress.IPv6Network) -> int:
    return min(
        vpc.prefixlen + CARVED_SUBNET_EXTRA_BITS, aws_formats.VPC_CIDR_MAX_PREFIX
    )


def carved_block(vpc_cidr: str, availability_zone: str) -> str | None:
    """Return the block a subnet without cidr gets in a zone, by the zone's letter.

    The VPC's block is split into blocks CARVED_SUBNET_EXTRA_BITS longer (at most
    /28), and zone a gets the first, zone b the second, and so on. A zone's block
    therefore never depends on the other zones, so adding or removing a zone moves
    no existing subnet. Returns None when the VPC has fewer blocks than the letter
    needs. Example: ("10.40.0.0/16", "eu-west-1c") -> "10.40.32.0/20".
    """
    vpc = ipaddress.ip_network(vpc_cidr)
    index = ord(availability_zone[-1]) - ord("a")
    prefix = _carved_prefix(vpc)
    if not 0 <= index < 2 ** (prefix - vpc.prefixlen):
        return None
    size = 2 ** (vpc.max_prefixlen - prefix)
    return f"{vpc.network_address + index * size}/{prefix}"


def carve_subnets(vpc_cidr: str, subnets: Sequence[NewSubnetConfig]) -> dict[str, str]:
    """Give each subnet of a created VPC its CIDR block, by Availability Zone.

    A subnet keeps the cidr it gives; one without gets `carved_block` of its zone.
    Raises ValueError for a zone without a carved block, which `check_networks`
    reports first.
    """
    blocks: dict[str, str] = {}
    for subnet in subnets:
        block = subnet.cidr or carved_block(vpc_cidr, subnet.availability_zone)
        if block is None:
            raise ValueError(
                f"no carved block in {vpc_cidr} for {subnet.availability_zone}"
            )
        blocks[subnet.availability_zone] = block
    return dict(sorted(blocks.items()))


def _check_carved_blocks(
    vpc: NewVpcConfig,
    path: str,
    given_blocks: Sequence[tuple[int, ipaddress.IPv4Network | ipaddress.IPv6Network]],
) -> list[Problem]:
    """Check the block of each subnet without cidr against the blocks given."""
    problems = []
    network = ipaddress.ip_network(vpc.cidr)
    prefix = _carved_prefix(network)
    count = 2 ** (prefix - network.prefixlen)
    zones = "zone a only" if count == 1 else f"zones a to {chr(ord('a') + count - 1)}"
    for index, subnet in enumerate(vpc.subnets):
        if subnet.cidr is not None:
            continue
        zone = subnet.availability_zone
        block = carved_block(vpc.cidr, zone)
        if block is None:
            problems.append(
                Problem(
                    f"{path}.subnets[{index}].cidr",
                    f"no cidr given, and the VPC's block has no carved block "
                    f"for {zone}",
                    "nothing",
                    f"a block inside {vpc.cidr}; without one, a subnet gets the "
                    f"/{prefix} block of its zone's letter, and {vpc.cidr} has "
                    f"blocks for {zones}",
                    "give the subnet its cidr, or use a larger VPC block",
                )
            )
            continue
        carved = ipaddress.ip_network(block)
        for other_index, other_block in given_blocks:
            if carved.overlaps(other_block):
                problems.append(
                    Problem(
                        f"{path}.subnets[{index}].cidr",
                        f"no cidr given, and the block carved for {zone}, "
                        f"{block}, overlaps another subnet",
                        "nothing",
                        "blocks that no other subnet of the VPC uses",
                        "give the subnet its cidr, or choose another block for "
                        f"subnets[{other_index}], which has {other_block}",
                    )
                )
                break
    return problems


def _check_new_vpc(vpc: NewVpcConfig, path: str) -> list[Problem]:
    problems = []
    network = ipaddress.ip_network(vpc.cidr)
    blocks: list[tuple[int, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    for index, subnet in enumerate(vpc.subnets):
        if subnet.cidr is None:
            continue
        at = f"{path}.subnets[{index}].cidr"
        block = ipaddress.ip_network(subnet.cidr)
        if not block.subnet_of(network):  # type: ignore[arg-type]
            problems.append(
                Problem(
                    at,
                    "subnet is outside the VPC's CIDR block",
                    show(subnet.cidr),
                    f"a block inside {vpc.cidr}",
                    f"choose a block inside {vpc.cidr}, or leave out cidr to have "
                    "one carved",
                )
            )
            continue
        for other, earlier in blocks:
            if block.overlaps(earlier):
                problems.append(
                    Problem(
                        at,
                        "subnet CIDR block overlaps another subnet",
                        show(subnet.cidr),
                        "blocks that no other subnet of the VPC uses",
                        f"choose another block; subnets[{other}] has {earlier}",
                    )
                )
                break
        blocks.append((index, block))
    problems.extend(_check_carved_blocks(vpc, path, blocks))
    return problems


def _check_existing_vpc(
    vpc: ExistingVpcConfig, path: str, endpoints: Sequence[EndpointConfig]
) -> list[Problem]:
    problems = []
    seen: dict[str, int] = {}
    for index, subnet in enumerate(vpc.subnets):
        if subnet.id in seen:
            problems.append(
                Problem(
                    f"{path}.subnets[{index}].id",
                    "duplicate subnet id",
                    show(subnet.id),
                    "each subnet once",
                    f"remove the entry; subnets[{seen[subnet.id]}] has it",
                )
            )
        seen.setdefault(subnet.id, index)
    tables: dict[str, int] = {}
    for index, table in enumerate(vpc.route_table_ids):
        if table in tables:
            problems.append(
                Problem(
                    f"{path}.routeTableIds[{index}]",
                    "duplicate route table id",
                    show(table),
                    "each route table once",
                    f"remove the entry; routeTableIds[{tables[table]}] has it",
                )
            )
        tables.setdefault(table, index)
    gateways = sorted(
        {
            endpoint.service
            for endpoint in endpoints
            if endpoint_type(endpoint) == GATEWAY
        }
    )
    if gateways and not vpc.route_table_ids:
        problems.append(
            Problem(
                f"{path}.routeTableIds",
                "gateway endpoints need route tables",
                "[]",
                "the ids of the route tables of the subnets that use "
                + " and ".join(gateways),
                "list the route table ids, or set type: Interface on those endpoints",
            )
        )
    return problems


@dataclass(frozen=True)
class _Vpc:
    """One account's VPC, as the checks across accounts read it."""

    index: int
    account: str
    path: str
    id: str | None
    cidr: str


def check_networks(
    organization_id: str | None,
    default_region: str | None,
    defaults: NetworkDefaults | None,
    accounts: Sequence[Any],
) -> list[Problem]:
    """Check every account's network and the organization's default endpoints.

    `accounts` contains the account entries in stack order: parsed, or with only
    their valid fields for an entry that failed its field checks, or None.
    Returns one problem per finding, with the path of the stack file.
    """
    problems: list[Problem] = []
    if defaults is not None:
        problems.extend(
            check_endpoints(
                defaults.endpoints, "organization.network.endpoints", organization_id
            )
        )
    vpcs: list[_Vpc] = []
    for index, account in enumerate(accounts):
        if account is None or account.network is None:
            continue
        path = f"accounts[{index}].network"
        network: NetworkConfig = account.network
        region = account.region or default_region
        problems.extend(_check_partition(region, path))
        if network.endpoints is not None:
            problems.extend(
                check_endpoints(network.endpoints, f"{path}.endpoints", organization_id)
            )
        endpoints = (
            network.endpoints
            if network.endpoints is not None
            else (defaults.endpoints if defaults else [])
        )
        if network.existing_vpc is not None:
            vpc_path = f"{path}.existingVpc"
            vpc: Any = network.existing_vpc
            problems.extend(_check_existing_vpc(vpc, vpc_path, endpoints))
        else:
            vpc_path = f"{path}.newVpc"
            vpc = network.new_vpc
            problems.extend(_check_new_vpc(vpc, vpc_path))
        problems.extend(
            check_availability_zones(
                [subnet.availability_zone for subnet in vpc.subnets],
                f"{vpc_path}.subnets",
                region,
            )
        )
        vpcs.append(
            _Vpc(
                index,
                account.name or f"accounts[{index}]",
                vpc_path,
                getattr(vpc, "id", None),
                vpc.cidr,
            )
        )
    problems.extend(_check_across_accounts(vpcs))
    return problems


def _check_partition(region: str | None, path: str) -> list[Problem]:
    if region is None:
        return []
    partition = aws_formats.partition_of(region)
    if partition in aws_formats.ENDPOINT_SERVICE_PARTITIONS:
        return []
    return [
        Problem(
            path,
            f"VPC endpoints are not supported in the {partition} partition",
            show(region),
            "an account in a region of the "
            + " or ".join(aws_formats.ENDPOINT_SERVICE_PARTITIONS)
            + " partition, where endpoint service names are "
            "com.amazonaws.<region>.<service>",
            "remove network from this account",
        )
    ]


def _check_across_accounts(vpcs: Sequence[_Vpc]) -> list[Problem]:
    """Report a VPC named by two accounts and VPC blocks that overlap.

    Each problem is on the later entry and names the earlier one. Two CIDR blocks
    are either disjoint or one contains the other, so a sweep over the blocks
    sorted by first address finds every overlapping pair without comparing each
    VPC with every other (an organization of thousands of accounts).
    """
    # (later position, earlier position, 0 for a shared id or 1 for an overlap)
    pairs: list[tuple[int, int, int]] = []
    positions_with_id: dict[str, list[int]] = {}
    for position, vpc in enumerate(vpcs):
        if vpc.id is None:
            continue
        earlier = positions_with_id.setdefault(vpc.id, [])
        pairs.extend((position, other, 0) for other in earlier)
        earlier.append(position)
    # Sorted by first address, a block comes after every block that contains it.
    blocks = []
    for position, vpc in enumerate(vpcs):
        network = ipaddress.ip_network(vpc.cidr)
        first = int(network.network_address)
        last = int(network.broadcast_address)
        blocks.append((first, -network.num_addresses, position, last))
    blocks.sort()
    # The blocks that contain the current one, each with its last address.
    enclosing: list[tuple[int, int]] = []
    for first, _, position, last in blocks:
        while enclosing and enclosing[-1][1] < first:
            enclosing.pop()
        for other, _ in enclosing:
            pairs.append((max(position, other), min(position, other), 1))
        enclosing.append((position, last))

    problems = []
    for position, earlier_position, kind in sorted(pairs):
        vpc, earlier = vpcs[position], vpcs[earlier_position]
        if kind == 0:
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
        else:
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


def resolve_network(
    network: NetworkConfig | None, defaults: NetworkDefaults | None
) -> Network | None:
    """Return an account's checked network with every default applied, or None."""
    if network is None:
        return None
    configs = (
        network.endpoints
        if network.endpoints is not None
        else (defaults.endpoints if defaults else [])
    )
    endpoints = tuple(
        sorted(
            (
                Endpoint(
                    name=config.name or config.service,
                    service=config.service,
                    type=GATEWAY if endpoint_type(config) == GATEWAY else INTERFACE,
                    private_dns=has_private_dns(config),
                    actions=tuple(sorted(set(config.policy.actions)))
                    if config.policy and config.policy.actions
                    else None,
                    resources=tuple(sorted(set(config.policy.resources)))
                    if config.policy and config.policy.resources
                    else None,
                )
                for config in configs
            ),
            key=lambda endpoint: endpoint.name,
        )
    )
    if network.existing_vpc is not None:
        existing = network.existing_vpc
        return Network(
            vpc_id=existing.id,
            cidr=existing.cidr,
            subnets=tuple(
                sorted(
                    (
                        Subnet(subnet.availability_zone, id=subnet.id)
                        for subnet in existing.subnets
                    ),
                    key=lambda subnet: subnet.availability_zone,
                )
            ),
            route_table_ids=tuple(sorted(existing.route_table_ids)),
            endpoints=endpoints,
        )
    assert network.new_vpc is not None
    blocks = carve_subnets(network.new_vpc.cidr, network.new_vpc.subnets)
    return Network(
        vpc_id=None,
        cidr=network.new_vpc.cidr,
        subnets=tuple(
            Subnet(zone, cidr=block) for zone, block in sorted(blocks.items())
        ),
        route_table_ids=(),
        endpoints=endpoints,
    )
