"""VPC endpoints on moto: create them from the program's arguments and read them back.

The program runs under the mock engine. Each account's recorded resource inputs
are then sent to moto's EC2 as the provider would send them: VPC, subnets, route
tables, security group, ingress rule and endpoints. An existing VPC of the stack
is first built in moto from the plan, with the fake ids mapped to moto's ids.
Every generated service name is also looked up in the endpoint services moto
lists for the account's region.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from governance import config, policy
from governance.endpoints import NetworkPlan
from governance.network import SERVICES
from governance.plan import plan_organization
from governance.preview import (
    PreviewResult,
    RecordedResource,
    computed_id,
    run_program,
)
from governance.stack_config import StackConfig
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.emulator

# Order in which the provider creates the types, dependencies first.
CREATION_ORDER = (
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
)


@pytest.fixture(autouse=True)
def moto_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Fake credentials, so that no real profile or metadata service is consulted.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture(scope="module")
def prod_preview(prod_stack: StackConfig) -> PreviewResult:
    return run_program(PROJECT_DIR, prod_stack)


def network_plans(stack: StackConfig) -> dict[str, NetworkPlan]:
    organization = config.load(stack.values, stack.secret_keys)
    plan = plan_organization(organization, stack.project, stack.stack)
    return {a.name: a.network for a in plan.accounts if a.network is not None}


class Replay:
    """One account's resources sent to moto, with preview ids mapped to moto ids."""

    def __init__(self, region: str) -> None:
        self.ec2 = boto3.client("ec2", region_name=region)
        self.ids: dict[str, str] = {}

    def id_of(self, value: str) -> str:
        return self.ids[value]

    def build_existing_vpc(self, network: NetworkPlan) -> None:
        """Create the VPC the stack names as existing, under moto's own ids."""
        assert network.vpc_id is not None
        vpc = self.ec2.create_vpc(CidrBlock=network.cidr)["Vpc"]["VpcId"]
        self.ids[network.vpc_id] = vpc
        blocks = ipaddress.ip_network(network.cidr).subnets(new_prefix=20)
        for subnet, block in zip(network.subnets, blocks, strict=False):
            assert subnet.id is not None
            self.ids[subnet.id] = self.ec2.create_subnet(
                VpcId=vpc,
                CidrBlock=str(block),
                AvailabilityZone=subnet.availability_zone,
            )["Subnet"]["SubnetId"]
        for table in network.route_table_ids:
            self.ids[table] = self.ec2.create_route_table(VpcId=vpc)["RouteTable"][
                "RouteTableId"
            ]

    def create(self, resource: RecordedResource, preview_id: str) -> None:
        """Send one recorded resource to moto as the provider would."""
        inputs = resource.inputs
        tags = (
            [
                {
                    "ResourceType": _tag_resource_type(resource.type),
                    "Tags": [{"Key": k, "Value": v} for k, v in inputs["tags"].items()],
                }
            ]
            if "tags" in inputs
            else []
        )
        if resource.type == "aws:ec2/vpc:Vpc":
            vpc = self.ec2.create_vpc(
                CidrBlock=inputs["cidrBlock"], TagSpecifications=tags
            )["Vpc"]["VpcId"]
            for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
                key = attribute[0].lower() + attribute[1:]
                self.ec2.modify_vpc_attribute(
                    VpcId=vpc, **{attribute: {"Value": inputs[key]}}
                )
            self.ids[preview_id] = vpc
        elif resource.type == "aws:ec2/subnet:Subnet":
            self.ids[preview_id] = self.ec2.create_subnet(
                VpcId=self.id_of(inputs["vpcId"]),
                CidrBlock=inputs["cidrBlock"],
                AvailabilityZone=inputs["availabilityZone"],
                TagSpecifications=tags,
            )["Subnet"]["SubnetId"]
        elif resource.type == "aws:ec2/routeTable:RouteTable":
            self.ids[preview_id] = self.ec2.create_route_table(
                VpcId=self.id_of(inputs["vpcId"]), TagSpecifications=tags
            )["RouteTable"]["RouteTableId"]
        elif resource.type.endswith("RouteTableAssociation"):
            self.ec2.associate_route_table(
                RouteTableId=self.id_of(inputs["routeTableId"]),
                SubnetId=self.id_of(inputs["subnetId"]),
            )
        elif resource.type == "aws:ec2/securityGroup:SecurityGroup":
            self.ids[preview_id] = self.ec2.create_security_group(
                GroupName=inputs["name"],
                Description=inputs["description"],
                VpcId=self.id_of(inputs["vpcId"]),
                TagSpecifications=tags,
            )["GroupId"]
        elif resource.type.endswith("SecurityGroupIngressRule"):
            self.ec2.authorize_security_group_ingress(
                GroupId=self.id_of(inputs["securityGroupId"]),
                IpPermissions=[
                    {
                        "IpProtocol": inputs["ipProtocol"],
                        "FromPort": inputs["fromPort"],
                        "ToPort": inputs["toPort"],
                        "IpRanges": [
                            {
                                "CidrIp": inputs["cidrIpv4"],
                                "Description": inputs["description"],
                            }
                        ],
                    }
                ],
            )
        elif resource.type == "aws:ec2/vpcEndpoint:VpcEndpoint":
            self.ids[preview_id] = self._create_endpoint(inputs, tags)
        else:
            raise AssertionError(f"no replay for {resource.type}")

    def _create_endpoint(self, inputs: dict[str, Any], tags: list[Any]) -> str:
        # EC2 rejects a service name the region does not offer (InvalidServiceName).
        # Moto's CreateVpcEndpoint does not check it, but its service listing does.
        self.ec2.describe_vpc_endpoint_services(ServiceNames=[inputs["serviceName"]])
        arguments: dict[str, Any] = {
            "VpcEndpointType": inputs["vpcEndpointType"],
            "VpcId": self.id_of(inputs["vpcId"]),
            "ServiceName": inputs["serviceName"],
            "PolicyDocument": inputs["policy"],
            "TagSpecifications": tags,
        }
        if "routeTableIds" in inputs:
            arguments["RouteTableIds"] = [
                self.id_of(t) for t in inputs["routeTableIds"]
            ]
        if "subnetIds" in inputs:
            arguments["SubnetIds"] = [self.id_of(s) for s in inputs["subnetIds"]]
            arguments["SecurityGroupIds"] = [
                self.id_of(g) for g in inputs["securityGroupIds"]
            ]
            arguments["PrivateDnsEnabled"] = inputs["privateDnsEnabled"]
        if "dnsOptions" in inputs:
            arguments["DnsOptions"] = {
                "PrivateDnsOnlyForInboundResolverEndpoint": inputs["dnsOptions"][
                    "privateDnsOnlyForInboundResolverEndpoint"
                ]
            }
        return self.ec2.create_vpc_endpoint(**arguments)["VpcEndpoint"]["VpcEndpointId"]


def _tag_resource_type(type_token: str) -> str:
    return {
        "aws:ec2/vpc:Vpc": "vpc",
        "aws:ec2/subnet:Subnet": "subnet",
        "aws:ec2/routeTable:RouteTable": "route-table",
        "aws:ec2/securityGroup:SecurityGroup": "security-group",
        "aws:ec2/vpcEndpoint:VpcEndpoint": "vpc-endpoint",
    }[type_token]


def replay_account(
    result: PreviewResult, network: NetworkPlan
) -> tuple[Replay, dict[str, RecordedResource]]:
    """Create an account's network in moto; return the replay and its endpoints."""
    replay = Replay(network.region)
    if not network.creates_vpc:
        replay.build_existing_vpc(network)
    prefix = f"{network.name}-"
    mine = [
        r
        for r in result.resources
        if r.type in CREATION_ORDER and r.name.startswith(prefix)
    ]
    mine.sort(key=lambda r: (CREATION_ORDER.index(r.type), r.name))
    endpoints = {}
    for resource in mine:
        preview_id = computed_id(resource.type, resource.name)
        replay.create(resource, preview_id)
        if resource.type == "aws:ec2/vpcEndpoint:VpcEndpoint":
            endpoints[replay.ids[preview_id]] = resource
    return replay, endpoints


def listed_services(region: str) -> dict[str, set[str]]:
    """Return every endpoint service moto lists in a region, with its types."""
    ec2 = boto3.client("ec2", region_name=region)
    services: dict[str, set[str]] = {}
    arguments: dict[str, Any] = {}
    while True:
        page = ec2.describe_vpc_endpoint_services(**arguments)
        for detail in page["ServiceDetails"]:
            types = {item["ServiceType"] for item in detail["ServiceType"]}
            services.setdefault(detail["ServiceName"], set()).update(types)
        if not page.get("NextToken"):
            return services
        arguments = {"NextToken": page["NextToken"]}


def check_read_back(replay: Replay, endpoints: dict[str, RecordedResource]) -> None:
    described = replay.ec2.describe_vpc_endpoints(VpcEndpointIds=sorted(endpoints))
    assert len(described["VpcEndpoints"]) == len(endpoints)
    for found in described["VpcEndpoints"]:
        inputs = endpoints[found["VpcEndpointId"]].inputs
        assert found["ServiceName"] == inputs["serviceName"]
        assert found["VpcEndpointType"] == inputs["vpcEndpointType"]
        assert found["VpcId"] == replay.id_of(inputs["vpcId"])
        assert policy.equivalent(
            policy.parse(found["PolicyDocument"]), json.loads(inputs["policy"])
        )
        tags = {tag["Key"]: tag["Value"] for tag in found.get("Tags", [])}
        assert tags == inputs["tags"]
        if inputs["vpcEndpointType"] == "Gateway":
            assert sorted(found["RouteTableIds"]) == sorted(
                replay.id_of(t) for t in inputs["routeTableIds"]
            )
            continue
        assert found["PrivateDnsEnabled"] is inputs["privateDnsEnabled"]
        assert sorted(found["SubnetIds"]) == sorted(
            replay.id_of(s) for s in inputs["subnetIds"]
        )
        assert [group["GroupId"] for group in found["Groups"]] == [
            replay.id_of(g) for g in inputs["securityGroupIds"]
        ]


def check_security_group(replay: Replay, network: NetworkPlan) -> None:
    groups = replay.ec2.describe_security_groups(
        Filters=[
            {"Name": "group-name", "Values": [f"vpc-endpoints-{network.account_name}"]}
        ]
    )["SecurityGroups"]
    assert len(groups) == 1
    assert groups[0]["IpPermissions"] == [
        {
            "FromPort": 443,
            "IpProtocol": "tcp",
            "IpRanges": [{"CidrIp": network.cidr, "Description": "HTTPS from the VPC"}],
            "Ipv6Ranges": [],
            "PrefixListIds": [],
            "ToPort": 443,
            "UserIdGroupPairs": [],
        }
    ]


@pytest.mark.parametrize(
    "account",
    [
        "orders-prod",
        "orders-staging",
        "payments-dev",
        "payments-prod",
        "payments-staging",
        "shared-services",
    ],
)
def test_prod_endpoints_on_moto(
    prod_preview: PreviewResult, prod_stack: StackConfig, account: str
) -> None:
    network = network_plans(prod_stack)[account]
    replay, endpoints = replay_account(prod_preview, network)
    assert len(endpoints) == len(network.endpoints)
    check_read_back(replay, endpoints)
    check_security_group(replay, network)


def test_new_vpc_read_back(
    prod_preview: PreviewResult, prod_stack: StackConfig
) -> None:
    network = network_plans(prod_stack)["payments-dev"]
    replay, endpoints = replay_account(prod_preview, network)
    gateway_ids = {
        moto_id
        for moto_id, endpoint in endpoints.items()
        if endpoint.inputs["vpcEndpointType"] == "Gateway"
    }
    [vpc] = replay.ec2.describe_vpcs(
        Filters=[{"Name": "cidr", "Values": ["10.40.0.0/16"]}]
    )["Vpcs"]
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        answer = replay.ec2.describe_vpc_attribute(
            VpcId=vpc["VpcId"], Attribute=attribute
        )
        assert answer[attribute[0].upper() + attribute[1:]]["Value"] is True

    subnets = replay.ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    )["Subnets"]
    assert sorted((s["AvailabilityZone"], s["CidrBlock"]) for s in subnets) == [
        ("eu-west-1a", "10.40.0.0/20"),
        ("eu-west-1b", "10.40.16.0/20"),
    ]
    assert all(not s["MapPublicIpOnLaunch"] for s in subnets)

    tables = replay.ec2.describe_route_tables(
        Filters=[
            {
                "Name": "association.subnet-id",
                "Values": [s["SubnetId"] for s in subnets],
            }
        ]
    )["RouteTables"]
    assert len(tables) == 2
    assert len(gateway_ids) == 2
    for table in tables:
        # The VPC's local route and one route per gateway endpoint (S3, DynamoDB),
        # which moto adds as EC2 does: no route to an internet or NAT gateway.
        targets = sorted(route["GatewayId"] for route in table["Routes"])
        assert targets == sorted({"local"} | gateway_ids)
        assert not any("NatGatewayId" in route for route in table["Routes"])


def test_prod_service_names_listed(prod_stack: StackConfig) -> None:
    for network in network_plans(prod_stack).values():
        listed = listed_services(network.region)
        for endpoint in network.endpoints:
            assert endpoint.service_name in listed, endpoint.service_name
            assert endpoint.type in listed[endpoint.service_name], endpoint.service_name


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1"])
def test_service_catalog_listed(region: str) -> None:
    listed = listed_services(region)
    for service, info in SERVICES.items():
        name = f"com.amazonaws.{region}.{service}"
        assert name in listed, name
        assert "Interface" in listed[name] or info.has_gateway, name
        if info.has_gateway:
            assert "Gateway" in listed[name], name


def test_other_region_and_second_s3(prod_stack: StackConfig) -> None:
    values = json.loads(json.dumps(prod_stack.values))
    values["accounts"][9]["network"] = {
        "newVpc": {
            "cidr": "10.90.0.0/16",
            "subnets": [
                {"availabilityZone": "us-east-1a"},
                {"availabilityZone": "us-east-1b"},
                {"availabilityZone": "us-east-1c"},
            ],
        },
        "endpoints": [
            "s3",
            {"service": "s3", "name": "s3-onprem", "type": "Interface"},
            "ecr.api",
            "ecr.dkr",
        ],
    }
    stack = dataclasses.replace(prod_stack, values=values)

    result = run_program(PROJECT_DIR, stack)
    assert result.exit_code == 0, result.stderr
    network = network_plans(stack)["sandbox"]
    replay, endpoints = replay_account(result, network)
    check_read_back(replay, endpoints)

    listed = listed_services("us-east-1")
    names = sorted(r.inputs["serviceName"] for r in endpoints.values())
    assert names == [
        "com.amazonaws.us-east-1.ecr.api",
        "com.amazonaws.us-east-1.ecr.dkr",
        "com.amazonaws.us-east-1.s3",
        "com.amazonaws.us-east-1.s3",
    ]
    assert all(name in listed for name in names)
    onprem = next(r for r in endpoints.values() if r.name.endswith("-s3-onprem"))
    assert onprem.inputs["dnsOptions"] == {
        "privateDnsOnlyForInboundResolverEndpoint": True
    }
