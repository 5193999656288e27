"""VPC endpoints of the prod stack: the real `__main__.py` under the mock engine."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from governance import policy
from governance.preview import PreviewResult, RecordedResource, computed_id, run_program
from governance.stack_config import StackConfig
from tests.conftest import PROJECT_DIR

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
COMPONENT = "org-governance:endpoints:VpcEndpoints"
NETWORKED = {
    "orders-prod": "123456789012",
    "orders-staging": "345678901234",
    "payments-dev": "456789012345",
    "payments-prod": "012345678901",
    "payments-staging": "234567890123",
    "shared-services": "408765432109",
}
ORGANIZATION_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowOrganizationPrincipals",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-7k2m9x4q1z"}},
        }
    ],
}


@pytest.fixture(scope="module")
def prod_preview(prod_stack: StackConfig) -> PreviewResult:
    return run_program(PROJECT_DIR, prod_stack)


def resource(result: PreviewResult, type_token: str, name: str) -> RecordedResource:
    found = [r for r in result.resources if r.type == type_token and r.name == name]
    assert len(found) == 1, f"{type_token} {name}: {len(found)} registered"
    return found[0]


def test_endpoints_only_in_networked_accounts(prod_preview: PreviewResult) -> None:
    components = {
        r.name: r.account for r in prod_preview.resources if r.type == COMPONENT
    }
    assert components == {
        f"{name}-vpc-endpoints": account for name, account in NETWORKED.items()
    }


def test_service_names_match_account_region(prod_preview: PreviewResult) -> None:
    endpoints = [r for r in prod_preview.resources if r.type == ENDPOINT]
    assert len(endpoints) == 26
    for endpoint in endpoints:
        account = endpoint.name.split("-vpc-endpoints-")[0]
        service = endpoint.name.split("-vpc-endpoints-")[1]
        assert endpoint.account == NETWORKED[account], endpoint.name
        assert endpoint.provider_name == account, endpoint.name
        assert endpoint.inputs["serviceName"] == f"com.amazonaws.eu-west-1.{service}"


def test_gateway_endpoint_inputs(prod_preview: PreviewResult) -> None:
    s3 = resource(prod_preview, ENDPOINT, "shared-services-vpc-endpoints-s3")
    inputs = dict(s3.inputs)
    assert policy.parse(inputs.pop("policy")) == policy.canonical(ORGANIZATION_ONLY)
    assert inputs == {
        "routeTableIds": ["rtb-0123456789abcdef1"],
        "serviceName": "com.amazonaws.eu-west-1.s3",
        "tags": {"Name": "shared-services-s3"},
        "vpcEndpointType": "Gateway",
        "vpcId": "vpc-0123456789abcdef0",
    }


def test_interface_endpoint_inputs(prod_preview: PreviewResult) -> None:
    secrets = resource(
        prod_preview, ENDPOINT, "shared-services-vpc-endpoints-secretsmanager"
    )
    group_id = computed_id(
        "aws:ec2/securityGroup:SecurityGroup", "shared-services-vpc-endpoints-sg"
    )
    inputs = dict(secrets.inputs)
    assert json.loads(inputs.pop("policy"))["Statement"][0]["Action"] == [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
    ]
    assert inputs == {
        "privateDnsEnabled": True,
        "securityGroupIds": [group_id],
        "serviceName": "com.amazonaws.eu-west-1.secretsmanager",
        "subnetIds": [
            "subnet-0123456789abcdef1",
            "subnet-0123456789abcdef2",
            "subnet-0123456789abcdef3",
        ],
        "tags": {"Name": "shared-services-secretsmanager"},
        "vpcEndpointType": "Interface",
        "vpcId": "vpc-0123456789abcdef0",
    }


def test_security_group_https_from_vpc(prod_preview: PreviewResult) -> None:
    group = resource(
        prod_preview,
        "aws:ec2/securityGroup:SecurityGroup",
        "payments-prod-vpc-endpoints-sg",
    )
    rule = resource(
        prod_preview,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "payments-prod-vpc-endpoints-sg-https",
    )
    assert group.inputs == {
        "description": "HTTPS from the VPC to its interface endpoints",
        "name": "vpc-endpoints-payments-prod",
        "tags": {"Name": "vpc-endpoints-payments-prod"},
        "vpcId": "vpc-0223456789abcdef0",
    }
    assert rule.inputs == {
        "cidrIpv4": "10.20.0.0/16",
        "description": "HTTPS from the VPC",
        "fromPort": 443,
        "ipProtocol": "tcp",
        "securityGroupId": computed_id(group.type, group.name),
        "toPort": 443,
    }
    egress = [r for r in prod_preview.resources if "EgressRule" in r.type]
    assert egress == []


def test_new_vpc_resources(prod_preview: PreviewResult) -> None:
    name = "payments-dev-vpc-endpoints"
    vpc = resource(prod_preview, "aws:ec2/vpc:Vpc", f"{name}-vpc")
    vpc_id = computed_id(vpc.type, vpc.name)
    assert vpc.inputs == {
        "cidrBlock": "10.40.0.0/16",
        "enableDnsHostnames": True,
        "enableDnsSupport": True,
        "tags": {"Name": "payments-dev-private"},
    }

    tables = []
    for zone, block in (
        ("eu-west-1a", "10.40.0.0/20"),
        ("eu-west-1b", "10.40.16.0/20"),
    ):
        subnet = resource(
            prod_preview, "aws:ec2/subnet:Subnet", f"{name}-subnet-{zone}"
        )
        assert subnet.inputs == {
            "availabilityZone": zone,
            "cidrBlock": block,
            "mapPublicIpOnLaunch": False,
            "tags": {"Name": f"payments-dev-private-{zone}"},
            "vpcId": vpc_id,
        }
        table = resource(
            prod_preview, "aws:ec2/routeTable:RouteTable", f"{name}-rtb-{zone}"
        )
        assert table.inputs == {
            "tags": {"Name": f"payments-dev-private-{zone}"},
            "vpcId": vpc_id,
        }
        association = resource(
            prod_preview,
            "aws:ec2/routeTableAssociation:RouteTableAssociation",
            f"{name}-rtb-assoc-{zone}",
        )
        assert association.inputs == {
            "routeTableId": computed_id(table.type, table.name),
            "subnetId": computed_id(subnet.type, subnet.name),
        }
        tables.append(computed_id(table.type, table.name))

    s3 = resource(prod_preview, ENDPOINT, f"{name}-s3")
    assert s3.inputs["routeTableIds"] == tables
    assert s3.inputs["vpcId"] == vpc_id
    gateways = [r for r in prod_preview.resources if "internetGateway" in r.type]
    assert gateways == []
    assert [r for r in prod_preview.resources if "natGateway" in r.type] == []


def test_children_parented_to_component(prod_preview: PreviewResult) -> None:
    components = {r.urn: r for r in prod_preview.resources if r.type == COMPONENT}
    baselines = {
        r.urn
        for r in prod_preview.resources
        if r.type == "org-governance:accounts:AccountBaseline"
    }
    for component in components.values():
        assert component.parent in baselines
    children = [
        r for r in prod_preview.resources if r.type.startswith(("aws:ec2/", "aws:vpc/"))
    ]
    for child in children:
        assert child.parent in components, child.name
        assert child.name.startswith(components[child.parent].name), child.name


def test_stack_outputs_endpoint_ids(prod_preview: PreviewResult) -> None:
    accounts = prod_preview.outputs["accounts"]
    shared = accounts["shared-services"]["vpcEndpoints"]
    assert shared["vpcId"] == "vpc-0123456789abcdef0"
    assert sorted(shared["endpointIds"]) == [
        "dynamodb",
        "logs",
        "s3",
        "secretsmanager",
        "ssm",
        "sts",
    ]
    for endpoint_id in shared["endpointIds"].values():
        assert re.fullmatch(r"vpce-[0-9a-f]{17}", endpoint_id)
    assert re.fullmatch(r"sg-[0-9a-f]{17}", shared["securityGroupId"])
    assert re.fullmatch(
        r"vpc-[0-9a-f]{17}", accounts["payments-dev"]["vpcEndpoints"]["vpcId"]
    )
    assert "vpcEndpoints" not in accounts["sandbox"]


def test_invalid_network_registers_nothing(prod_stack: StackConfig) -> None:
    values: dict[str, Any] = json.loads(json.dumps(prod_stack.values))
    values["accounts"][4]["network"]["existingVpc"]["subnets"][1][
        "availabilityZone"
    ] = "eu-west-2b"
    result = run_program(PROJECT_DIR, dataclasses.replace(prod_stack, values=values))
    assert result.exit_code == 2
    assert result.resources == []
    assert (
        "accounts[4].network.existingVpc.subnets[1].availabilityZone: "
        "Availability Zone is not in the account's region"
    ) in result.stderr
