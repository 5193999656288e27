"""An account's VPC endpoints, and the private VPC they go into when it is created."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from governance.endpoints import EndpointPlan, NetworkPlan
from governance.network import GATEWAY, INTERFACE


class VpcEndpoints(pulumi.ComponentResource):
    """The VPC endpoints of one account, with their security group.

    When the plan creates the VPC, the component creates it too, with one private
    subnet per Availability Zone and a route table for each subnet. It creates no
    internet or NAT gateway. The provider comes from the parent, the account's
    baseline.
    """

    def __init__(
        self,
        plan: NetworkPlan,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("org-governance:endpoints:VpcEndpoints", plan.name, None, opts)
        self.vpc: aws.ec2.Vpc | None = None
        self.subnets: dict[str, aws.ec2.Subnet] = {}
        self.route_tables: dict[str, aws.ec2.RouteTable] = {}
        self.route_table_associations: dict[str, aws.ec2.RouteTableAssociation] = {}
        if plan.creates_vpc:
            vpc_id, subnet_ids, route_table_ids = self._create_vpc(plan)
        else:
            assert plan.vpc_id is not None
            vpc_id = plan.vpc_id
            subnet_ids = [subnet.id for subnet in plan.subnets if subnet.id]
            route_table_ids = list(plan.route_table_ids)

        self.security_group: aws.ec2.SecurityGroup | None = None
        self.https_ingress: aws.vpc.SecurityGroupIngressRule | None = None
        if plan.security_group is not None:
            self._create_security_group(plan, vpc_id)

        self.endpoints: dict[str, aws.ec2.VpcEndpoint] = {}
        gateways: dict[str, aws.ec2.VpcEndpoint] = {}
        # Gateway endpoints first: an interface endpoint whose private DNS serves
        # only inbound resolver traffic needs the gateway endpoint to exist.
        for endpoint in sorted(plan.endpoints, key=lambda e: e.type != GATEWAY):
            resource = self._create_endpoint(
                plan, endpoint, vpc_id, subnet_ids, route_table_ids, gateways
            )
            self.endpoints[endpoint.name] = resource
            if endpoint.type == GATEWAY:
                gateways[endpoint.service] = resource

        self.vpc_id: pulumi.Input[str] = vpc_id
        self.outputs: dict[str, pulumi.Input[object]] = {
            "vpcId": vpc_id,
            "endpointIds": {
                name: self.endpoints[name].id for name in sorted(self.endpoints)
            },
            "securityGroupId": self.security_group.id if self.security_group else None,
        }
        self.register_outputs(self.outputs)

    def _create_vpc(
        self, plan: NetworkPlan
    ) -> tuple[pulumi.Output[str], list[pulumi.Output[str]], list[pulumi.Output[str]]]:
        # Private DNS of interface endpoints needs both DNS attributes of the VPC.
        self.vpc = aws.ec2.Vpc(
            f"{plan.name}-vpc",
            cidr_block=plan.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{plan.account_name}-private"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        for subnet in plan.subnets:
            zone = subnet.availability_zone
            self.subnets[zone] = aws.ec2.Subnet(
                f"{plan.name}-subnet-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=subnet.cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{plan.account_name}-private-{zone}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            # A route table with only the VPC's local route: the subnet stays
            # private, and gateway endpoints add their routes to it.
            self.route_tables[zone] = aws.ec2.RouteTable(
                f"{plan.name}-rtb-{zone}",
                vpc_id=self.vpc.id,
                tags={"Name": f"{plan.account_name}-private-{zone}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.route_table_associations[zone] = aws.ec2.RouteTableAssociation(
                f"{plan.name}-rtb-assoc-{zone}",
                subnet_id=self.subnets[zone].id,
                route_table_id=self.route_tables[zone].id,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return (
            self.vpc.id,
            [self.subnets[zone].id for zone in sorted(self.subnets)],
            [self.route_tables[zone].id for zone in sorted(self.route_tables)],
        )

    def _create_security_group(
        self, plan: NetworkPlan, vpc_id: pulumi.Input[str]
    ) -> None:
        group = plan.security_group
        assert group is not None
        # The rule is a resource of its own, as pulumi-aws v7 recommends over
        # inline rules. There is no egress rule: the provider removes the
        # allow-all egress rule AWS adds, security groups are stateful so
        # responses still leave, and an endpoint never opens a connection.
        self.security_group = aws.ec2.SecurityGroup(
            f"{plan.name}-sg",
            name=group.name,
            description=group.description,
            vpc_id=vpc_id,
            tags={"Name": group.name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.https_ingress = aws.vpc.SecurityGroupIngressRule(
            f"{plan.name}-sg-https",
            security_group_id=self.security_group.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=group.port,
            to_port=group.port,
            cidr_ipv4=group.ingress_cidr,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_endpoint(
        self,
        plan: NetworkPlan,
        endpoint: EndpointPlan,
        vpc_id: pulumi.Input[str],
        subnet_ids: list[pulumi.Input[str]],
        route_table_ids: list[pulumi.Input[str]],
        gateways: dict[str, aws.ec2.VpcEndpoint],
    ) -> aws.ec2.VpcEndpoint:
        name = f"{plan.name}-{endpoint.name}"
        tags = {"Name": f"{plan.account_name}-{endpoint.name}"}
        if endpoint.type != INTERFACE:
            return aws.ec2.VpcEndpoint(
                name,
                vpc_id=vpc_id,
                service_name=endpoint.service_name,
                vpc_endpoint_type=endpoint.type,
                route_table_ids=route_table_ids,
                policy=endpoint.policy_json,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
        assert self.security_group is not None
        gateway = gateways.get(endpoint.service)
        only_inbound = endpoint.private_dns_only_for_inbound_resolver_endpoint
        return aws.ec2.VpcEndpoint(
            name,
            vpc_id=vpc_id,
            service_name=endpoint.service_name,
            vpc_endpoint_type=endpoint.type,
            subnet_ids=subnet_ids,
            security_group_ids=[self.security_group.id],
            private_dns_enabled=endpoint.private_dns,
            dns_options=aws.ec2.VpcEndpointDnsOptionsArgs(
                private_dns_only_for_inbound_resolver_endpoint=True,
            )
            if only_inbound
            else None,
            policy=endpoint.policy_json,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[gateway] if only_inbound and gateway else None,
            ),
        )
