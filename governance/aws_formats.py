"""AWS identifier formats, quotas and region data.

Every format the configuration validator checks lives here, next to the AWS rule it
encodes and an example. The Hypothesis strategies in the tests build their values
from the same patterns, so the validator and the generators cannot drift apart.
"""

from __future__ import annotations

import functools
import re

import botocore.loaders

# Account id: exactly 12 decimal digits, leading zeros included.
# Example: "012345678901".
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")

# Organization id: "o-" followed by 10 to 32 lowercase letters or digits.
# Example: "o-a1b2c3d4e5".
ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")

# Organization root id: "r-" followed by 4 to 32 lowercase letters or digits.
# Example: "r-ab12".
ROOT_ID = re.compile(r"^r-[0-9a-z]{4,32}$")

# Organizational unit id: "ou-", 4 to 32 characters of the root id, "-", then 8 to 32
# lowercase letters or digits. Example: "ou-ab12-cd34ef56".
ORGANIZATIONAL_UNIT_ID = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")

# IAM role name: 1 to 64 characters from letters, digits and "+=,.@_-". IAM compares
# role names without regard to case. Example: "OrganizationAccountAccessRole".
ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
ROLE_NAME_MAX_LENGTH = 64

# STS role session name: 2 to 64 characters from letters, digits and "=,.@_-".
# Example: "org-governance-prod".
ROLE_SESSION_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{2,64}$")

# Account name as used in this program's resource names: letters, digits
# and hyphens, starting with a letter, at most 32 characters, so that names built
# from it stay within the 64 characters of IAM role names and budget names.
# Example: "payments-prod".
ACCOUNT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,31}$")

# Organizational unit name as used in this configuration: the same rule as account
# names. Example: "workloads".
UNIT_NAME = ACCOUNT_NAME

# Tag rules for IAM, Lambda, EC2 and Budgets: key 1-128 characters, value 0-256
# characters, from letters, digits, spaces and "_.:/=+-@". The "aws:" prefix is
# reserved for AWS. At most 50 tags per resource.
TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")
RESERVED_TAG_PREFIX = "aws:"
MAX_TAGS_PER_RESOURCE = 50


@functools.cache
def _partitions() -> dict[str, str]:
    """Map every region name botocore knows to its partition."""
    data = botocore.loaders.create_loader().load_data("endpoints")
    regions: dict[str, str] = {}
    for partition in data["partitions"]:
        for region in partition["regions"]:
            regions[region] = partition["partition"]
    return regions


def known_regions() -> list[str]:
    """Return every region name in botocore's endpoint data, sorted."""
    return sorted(_partitions())


def partition_of(region: str) -> str:
    """Return the ARN partition of a known region ("aws", "aws-cn", "aws-us-gov", ...).

    Raises KeyError for a region botocore does not know.
    """
    return _partitions()[region]


def role_arn(partition: str, account_id: str, role_name: str, path: str = "/") -> str:
    """Build an IAM role ARN, for example arn:aws:iam::123456789012:role/Admin."""
    return f"arn:{partition}:iam::{account_id}:role{path}{role_name}"


# VPC, subnet and route table ids: the prefix and 8 hexadecimal digits (resources
# created before 2018) or 17. Example: "vpc-0123456789abcdef0".
VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
ROUTE_TABLE_ID = re.compile(r"^rtb-([0-9a-f]{8}|[0-9a-f]{17})$")

# Availability Zone name: the region's name followed by one letter. Local Zones
# ("us-east-1-bos-1a") and Wavelength Zones have longer names and do not match.
# Example: "eu-west-1a".
AVAILABILITY_ZONE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+[a-z]$")

# IPv4 CIDR block of a VPC or a subnet: a prefix length from /16 to /28.
# Example: "10.20.0.0/16".
VPC_CIDR_MIN_PREFIX = 16
VPC_CIDR_MAX_PREFIX = 28

# VPC endpoint policy: at most 20,480 characters, whitespace included.
ENDPOINT_POLICY_MAX_LENGTH = 20_480

# IAM action in a policy: the service prefix, a colon and the action name, which
# may hold the wildcards "*" and "?". Example: "secretsmanager:GetSecretValue".
IAM_ACTION = re.compile(r"^([a-z0-9-]+):[A-Za-z0-9*?]+$")

# ARN: "arn", partition, service, region (may be empty), account (may be empty)
# and the resource. Example: "arn:aws:s3:::example-bucket/*".
ARN = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:[0-9a-z-]*:.+$")

# Partitions whose AWS services name their VPC endpoint services
# "com.amazonaws.<region>.<service>". In aws-cn many are "cn.com.amazonaws...".
ENDPOINT_SERVICE_PARTITIONS = ("aws", "aws-us-gov")


def endpoint_service_name(region: str, service: str) -> str:
    """Build an AWS service's VPC endpoint service name in a region.

    Example: endpoint_service_name("eu-west-1", "sts") is
    "com.amazonaws.eu-west-1.sts". A name with another region than the VPC's is
    rejected by EC2 with InvalidServiceName.
    """
    return f"com.amazonaws.{region}.{service}"
