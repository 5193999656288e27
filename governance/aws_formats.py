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
ACCOUNT_ID = re.compile(r"^[0-9]{12}\Z")

# Organization id: "o-" followed by 10 to 32 lowercase letters or digits.
# Example: "o-a1b2c3d4e5".
ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}\Z")

# Organization root id: "r-" followed by 4 to 32 lowercase letters or digits.
# Example: "r-ab12".
ROOT_ID = re.compile(r"^r-[0-9a-z]{4,32}\Z")

# Organizational unit id: "ou-", 4 to 32 characters of the root id, "-", then 8 to 32
# lowercase letters or digits. Example: "ou-ab12-cd34ef56".
ORGANIZATIONAL_UNIT_ID = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}\Z")

# IAM role name: 1 to 64 characters from letters, digits and "+=,.@_-". IAM compares
# role names without regard to case. Example: "OrganizationAccountAccessRole".
ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}\Z")
ROLE_NAME_MAX_LENGTH = 64

# STS role session name: 2 to 64 characters from letters, digits and "=,.@_-".
# Example: "org-governance-prod".
ROLE_SESSION_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{2,64}\Z")

# Account name as used in this program's resource names: letters, digits
# and hyphens, starting with a letter, at most 32 characters, so that names built
# from it stay within the 64 characters of IAM role names and budget names.
# Example: "payments-prod".
ACCOUNT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,31}\Z")

# Organizational unit name as used in this configuration: the same rule as account
# names. Example: "workloads".
UNIT_NAME = ACCOUNT_NAME

# Tag rules for IAM, Lambda, EC2 and Budgets: key 1-128 characters, value 0-256
# characters, from letters, digits, spaces and "_.:/=+-@". The "aws:" prefix is
# reserved for AWS. At most 50 tags per resource.
TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}\Z")
TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}\Z")
RESERVED_TAG_PREFIX = "aws:"
MAX_TAGS_PER_RESOURCE = 50


@functools.cache
def _partitions() -> dict[str, str]:
    """Map every region name in botocore's endpoint data to its partition."""
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


# Role path: "/" or "/" + printable ASCII characters + "/", at most 512 characters.
# Example: "/org-governance/".
ROLE_PATH_MAX_LENGTH = 512
ROLE_PATH = re.compile(r"^(/|/[\x21-\x7E]{1,510}/)\Z")

# Role description: at most 1000 characters of tab, newline and printable Latin-1.
ROLE_DESCRIPTION = re.compile(r"^[\t\n\r\x20-\x7E\xA1-\xFF]{0,1000}\Z")

# sts:ExternalId: 2 to 1,224 characters from letters, digits and "+=,.@:/-"; STS
# also accepts "_". Example: "d41d8cd98f00b204e9800998ecf8427e".
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_+=,.@:/-]{2,1224}\Z")

# MaxSessionDuration of a role, in seconds: 1 hour to 12 hours.
SESSION_DURATION_RANGE = (3600, 43200)

# Trust policy length, counted without whitespace: 2,048 by default. The quota can
# be raised through Service Quotas, to 8,192 at most as of the IAM quotas page.
TRUST_POLICY_LENGTH_DEFAULT = 2048
TRUST_POLICY_LENGTH_MAX = 8192

# All inline policies of one role together: 10,240 characters without whitespace.
INLINE_POLICIES_PER_ROLE_LENGTH = 10240

# Managed policies attached to one role: 10 by default, 20 at most.
MANAGED_POLICIES_PER_ROLE_DEFAULT = 10
MANAGED_POLICIES_PER_ROLE_MAX = 20
# AWS Budgets quotas: a budget has at most 10 notifications, and each notification
# at most 10 email subscribers and 1 SNS topic subscriber. The Budgets API model
# (botocore 1.44.8, budgets 2016-10-20) agrees: NotificationWithSubscribersList has
# at most 10 entries and Subscribers at most 11.
# Example: "ACTUAL above 80 %" to two addresses and the account's budget topic.
MAX_NOTIFICATIONS_PER_BUDGET = 10
MAX_EMAILS_PER_NOTIFICATION = 10
MAX_SNS_TOPICS_PER_NOTIFICATION = 1

# Budget notification threshold: the API accepts 0 to 15,000,000,000,000
# (NotificationThreshold), and this program also rejects 0, which would alert at once.
# A percentage over 100 is valid. Example: 80.
MAX_NOTIFICATION_THRESHOLD = 15_000_000_000_000

# A PERCENTAGE threshold: the Budgets API documents "The maximum limit for your
# threshold is 1,000,000% above the budgeted amount" (Notification.Threshold,
# botocore 1.44.8), read here as at most 1,000,000. Example: 150 (% of the limit).
MAX_PERCENTAGE_THRESHOLD = 1_000_000

# Budget limit in USD: the Budgets API model sets no maximum, since an amount is a
# string of digits with an optional decimal part (NumericValue, "([0-9]*\.)?[0-9]+",
# no exponent). This program takes at most the maximum notification threshold, so
# an ABSOLUTE_VALUE alarm can always be set at the limit, and at most 2 decimal
# places. Example: 5000.
# NOTE: the bound is this program's choice; no AWS quota on the amount is known.
MAX_BUDGET_LIMIT_USD = MAX_NOTIFICATION_THRESHOLD

# Budget name: 1-100 characters, neither ":" nor "\", and not containing "/action/"
# (BudgetName pattern of the Budgets API). Budgets are identified by name, so a
# new name replaces the budget. Example: "payments-prod-monthly-cost".
BUDGET_NAME = re.compile(r"^(?!.*/action/)[^:\\]{1,100}\Z")

# SNS topic name: 1-256 letters, digits, hyphens and underscores (standard topics).
# Example: "payments-prod-budget-alarms".
SNS_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}\Z")

# Cost Anomaly Detection: a subscription sends to at most 10 email addresses or to
# one SNS topic, and its threshold values are numbers from 0 to 10,000,000,000
# (ThresholdExpression in the Cost Explorer API model, botocore 1.44.8).
# Example: alert on an anomaly whose total impact is at least 100 USD.
MAX_ANOMALY_SUBSCRIPTION_EMAILS = 10
MAX_ANOMALY_THRESHOLD_USD = 10_000_000_000

# Cost Explorer service names: the values of the SERVICE dimension, as
# `aws ce get-dimension-values --dimension SERVICE` returns them, which are also the
# values of the Budgets `Service` cost filter. Each maps to the short name used in
# this program's budget names. Example: "AWS Lambda" -> "lambda".
# NOTE: a partial list from published output of that command, not read from a live
# account. Add a missing service as one more line.
COST_EXPLORER_SERVICES: dict[str, str] = {
    "AWS Backup": "backup",
    "AWS CloudTrail": "cloudtrail",
    "AWS Config": "config",
    "AWS Glue": "glue",
    "AWS Key Management Service": "kms",
    "AWS Lambda": "lambda",
    "AWS Secrets Manager": "secrets-manager",
    "AWS Step Functions": "step-functions",
    "AWS WAF": "waf",
    "Amazon API Gateway": "api-gateway",
    "Amazon Athena": "athena",
    "Amazon CloudFront": "cloudfront",
    "Amazon DynamoDB": "dynamodb",
    "Amazon EC2 Container Registry (ECR)": "ecr",
    "Amazon ElastiCache": "elasticache",
    "Amazon Elastic Compute Cloud - Compute": "ec2-compute",
    "Amazon Elastic Container Service": "ecs",
    "Amazon Elastic Container Service for Kubernetes": "eks",
    "Amazon Elastic File System": "efs",
    "Amazon Elastic Load Balancing": "elb",
    "Amazon GuardDuty": "guardduty",
    "Amazon Inspector": "inspector",
    "Amazon Kinesis": "kinesis",
    "Amazon Redshift": "redshift",
    "Amazon Relational Database Service": "rds",
    "Amazon Route 53": "route53",
    "Amazon SageMaker": "sagemaker",
    "Amazon Simple Email Service": "ses",
    "Amazon Simple Notification Service": "sns",
    "Amazon Simple Queue Service": "sqs",
    "Amazon Simple Storage Service": "s3",
    "Amazon Virtual Private Cloud": "vpc",
    "AmazonCloudWatch": "cloudwatch",
    "EC2 - Other": "ec2-other",
}


def budget_arn(partition: str, account_id: str, name: str) -> str:
    """Build a budget ARN, the `aws:SourceArn` of the budget's notifications.

    Example: arn:aws:budgets::123456789012:budget/payments-prod-monthly-cost.
    """
    return f"arn:{partition}:budgets::{account_id}:budget/{name}"


def sns_topic_arn(partition: str, region: str, account_id: str, name: str) -> str:
    """Build an SNS topic ARN, for example arn:aws:sns:eu-west-1:123456789012:alarms."""
    return f"arn:{partition}:sns:{region}:{account_id}:{name}"


# Lambda layer name: 1 to 140 letters, digits, hyphens and underscores (the
# PublishLayerVersion LayerName pattern). Example: "org-monitoring-v1".
LAYER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,140}\Z")
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
STATEMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}\Z")

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


# VPC, subnet and route table ids: the prefix and 8 hexadecimal digits (resources
# created before 2018) or 17. Example: "vpc-0123456789abcdef0".
VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})\Z")
SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})\Z")
ROUTE_TABLE_ID = re.compile(r"^rtb-([0-9a-f]{8}|[0-9a-f]{17})\Z")

# Availability Zone name: the region's name followed by one letter. Local Zones
# ("us-east-1-bos-1a") and Wavelength Zones have longer names and do not match.
# Example: "eu-west-1a".
AVAILABILITY_ZONE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+[a-z]\Z")

# IPv4 CIDR block of a VPC or a subnet: a prefix length from /16 to /28.
# Example: "10.20.0.0/16".
VPC_CIDR_MIN_PREFIX = 16
VPC_CIDR_MAX_PREFIX = 28

# VPC endpoint policy: at most 20,480 characters, whitespace included.
ENDPOINT_POLICY_MAX_LENGTH = 20_480

# IAM action in a policy: the service prefix, a colon and the action name, which
# may hold the wildcards "*" and "?". Example: "secretsmanager:GetSecretValue".
IAM_ACTION = re.compile(r"^([a-z0-9-]+):[A-Za-z0-9*?]+\Z")

# ARN: "arn", partition, service, region (may be empty), account (may be empty)
# and the resource. Example: "arn:aws:s3:::example-bucket/*".
ARN = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:[0-9a-z-]*:.+\Z")

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
