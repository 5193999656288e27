"""The plan of an account's VPC endpoints, as plain data with no Pulumi import.

`plan_network` turns an account's checked `Network` into a `NetworkPlan`: the VPC
and subnets to create (or the existing ones to use), the endpoint security group,
and each endpoint with its region's service name and its policy. Everything is
sorted, so the same configuration gives the same plan whatever its entry order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from governance import aws_formats, policy
from governance.config import Account
from governance.network import GATEWAY, INTERFACE, Network, endpoint_policy

# Interface endpoints accept HTTPS only; the security group opens TCP 443 to them.
HTTPS_PORT = 443


@dataclass(frozen=True)
class SubnetPlan:
    """A private subnet: an existing one by id, or one to create with its block."""

    availability_zone: str
    id: str | None
    cidr: str | None


@dataclass(frozen=True)
class SecurityGroupPlan:
    """The VPC's endpoint security group: TCP 443 in from the VPC's block only."""

    name: str
    description: str
    ingress_cidr: str
    port: int = HTTPS_PORT


@dataclass(frozen=True)
class EndpointPlan:
    """One VPC endpoint, with the service name of its region and its policy.

    `availability_zones` lists the zones of an interface endpoint's network
    interfaces, one per subnet; a gateway endpoint has none.
    """

    name: str
    service: str
    service_name: str
    type: str
    private_dns: bool
    private_dns_only_for_inbound_resolver_endpoint: bool
    policy: Mapping[str, Any]
    availability_zones: tuple[str, ...]

    @property
    def policy_json(self) -> str:
        """Return the policy as the compact JSON sent to EC2."""
        return policy.to_json(self.policy)


@dataclass(frozen=True)
class NetworkPlan:
    """An account's VPC, subnets, endpoint security group and endpoints.

    `vpc_id` is None when the VPC is created; `route_table_ids` then stays empty,
    because the component creates one route table per subnet.
    """

    name: str
    account_name: str
    region: str
    vpc_id: str | None
    cidr: str
    subnets: tuple[SubnetPlan, ...]
    route_table_ids: tuple[str, ...]
    security_group: SecurityGroupPlan | None
    endpoints: tuple[EndpointPlan, ...]

    @property
    def creates_vpc(self) -> bool:
        """Say whether the program creates the VPC rather than using an existing one."""
        return self.vpc_id is None

    @property
    def interface_endpoints(self) -> tuple[EndpointPlan, ...]:
        """Return the interface endpoints, the ones that are billed."""
        return tuple(e for e in self.endpoints if e.type == INTERFACE)

    @property
    def gateway_endpoints(self) -> tuple[EndpointPlan, ...]:
        """Return the gateway endpoints, which cost nothing."""
        return tuple(e for e in self.endpoints if e.type == GATEWAY)


def plan_network(account: Account, organization_id: str) -> NetworkPlan | None:
    """Plan an account's network, or return None when it has none."""
    network: Network | None = account.network
    if network is None:
        return None
    zones = tuple(subnet.availability_zone for subnet in network.subnets)
    gateway_services = {
        endpoint.service for endpoint in network.endpoints if endpoint.type == GATEWAY
    }
    endpoints = tuple(
        EndpointPlan(
            name=endpoint.name,
            service=endpoint.service,
            service_name=aws_formats.endpoint_service_name(
                account.region, endpoint.service
            ),
            type=endpoint.type,
            private_dns=endpoint.private_dns,
            # With a gateway endpoint for the same service in the VPC, private DNS
            # on the interface endpoint serves only on-premises clients, so traffic
            # from the VPC keeps going through the free gateway endpoint.
            private_dns_only_for_inbound_resolver_endpoint=endpoint.private_dns
            and endpoint.service in gateway_services,
            policy=endpoint_policy(
                organization_id, endpoint.actions, endpoint.resources
            ),
            availability_zones=zones if endpoint.type == INTERFACE else (),
        )
        for endpoint in network.endpoints
    )
    has_interface = any(endpoint.type == INTERFACE for endpoint in endpoints)
    return NetworkPlan(
        name=f"{account.name}-vpc-endpoints",
        account_name=account.name,
        region=account.region,
        vpc_id=network.vpc_id,
        cidr=network.cidr,
        subnets=tuple(
            SubnetPlan(subnet.availability_zone, subnet.id, subnet.cidr)
            for subnet in network.subnets
        ),
        route_table_ids=network.route_table_ids,
        security_group=SecurityGroupPlan(
            # Security group names may not start with "sg-", which an account
            # name could; the fixed prefix keeps every name valid.
            name=f"vpc-endpoints-{account.name}",
            description="HTTPS from the VPC to its interface endpoints",
            ingress_cidr=network.cidr,
        )
        if has_interface
        else None,
        endpoints=endpoints,
    )
