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


# Lambda layer name: 1 to 140 letters, digits, hyphens and underscores (the
# PublishLayerVersion LayerName pattern). Example: "org-monitoring-v1".
LAYER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,140}$")
LAYER_NAME_MAX_LENGTH = 140

# Lambda layer version description: at most 256 characters. LicenseInfo: at most 512.
# Example description: "1.4.0: structured JSON logs and a cost metric per invocation".
LAYER_DESCRIPTION_MAX_LENGTH = 256
LAYER_LICENSE_INFO_MAX_LENGTH = 512

# PublishLayerVersion takes at most 15 compatible runtimes and 2 architectures.
LAYER_MAX_COMPATIBLE_RUNTIMES = 15

# Runtime identifiers that the Lambda documentation lists as supported, from the
# "Lambda runtimes" page, https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
# Example: "python3.13". Deprecated runtimes (python3.9, nodejs18.x, ...) are left out.
# NOTE: kept by hand; update it when Lambda adds or deprecates a runtime. A test checks
# that each identifier is in botocore's Runtime enum, so a typo cannot slip in.
LAMBDA_RUNTIMES = (
    "dotnet10",
    "dotnet8",
    "java11",
    "java17",
    "java21",
    "java25",
    "java8.al2",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "provided.al2",
    "provided.al2023",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "ruby3.3",
    "ruby3.4",
)

# Instruction set architectures of Lambda, from the same documentation and the
# PublishLayerVersion CompatibleArchitectures enum. Example: "arm64".
LAMBDA_ARCHITECTURES = ("arm64", "x86_64")

# Lambda quotas for a deployment package or a layer: a zip uploaded directly (not
# through S3) is at most 50 MB, and a function with all its layers is at most 250 MB
# unzipped. `aws lambda get-account-settings` reports them in bytes as CodeSizeZipped
# 52428800 and CodeSizeUnzipped 262144000, that is 50 MiB and 250 MiB.
LAYER_ZIP_MAX_BYTES = 50 * 1024 * 1024
LAYER_UNZIPPED_MAX_BYTES = 250 * 1024 * 1024

# Statement id of a layer version permission: 1 to 100 letters, digits, hyphens and
# underscores, unique within the version's policy. Example: "account-012345678901".
STATEMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")

# The only action a layer version permission may grant.
LAYER_PERMISSION_ACTION = "lambda:GetLayerVersion"


def layer_arn(partition: str, region: str, account_id: str, layer_name: str) -> str:
    """Build a layer ARN, for example arn:aws:lambda:eu-west-1:123456789012:layer:x."""
    return f"arn:{partition}:lambda:{region}:{account_id}:layer:{layer_name}"


def layer_version_arn(
    partition: str, region: str, account_id: str, layer_name: str, version: int
) -> str:
    """Build a layer version ARN: the layer ARN, a colon and the version number."""
    return f"{layer_arn(partition, region, account_id, layer_name)}:{version}"
