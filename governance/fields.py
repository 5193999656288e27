"""Validated field types for the configuration models.

Each type checks one AWS format from `aws_formats` and, when the value is wrong,
raises an error that names what was found, what is allowed and how to fix it. The
loader turns those errors into `Problem`s with the config path added.
"""

from __future__ import annotations

import difflib
import functools
import unicodedata
from typing import Annotated, Any

import email_validator
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from governance import aws_formats

# Tag that names the stack managing a resource, added to every provider's default
# tags so a resource found in the console leads back to its stack.
MANAGED_BY_TAG = "org-governance:stack"

# Error type of every check written in this project; the loader reads its context.
ERROR_TYPE = "governance"


class Model(BaseModel):
    """Base of every configuration model: camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
    )


def invalid(message: str, allowed: str, fix: str) -> PydanticCustomError:
    """Return the error a field check raises, carrying what is allowed and the fix."""
    # Braces in a value would be read as placeholders by pydantic's formatter.
    safe = message.replace("{", "(").replace("}", ")")
    return PydanticCustomError(ERROR_TYPE, safe, {"allowed": allowed, "fix": fix})


def suggest(value: str, choices: list[str], fallback: str) -> str:
    """Return a fix naming the closest choices, or the fallback if none is close."""
    close = difflib.get_close_matches(value, choices, n=3, cutoff=0.6)
    if close:
        return f"did you mean {' or '.join(close)}?"
    return fallback


def _digits_hint(number: int) -> str:
    return f'"{number:012d}"' if 0 <= number < 10**12 else f'"{number}"'


def check_account_id(value: Any) -> str:
    """Accept a 12-digit string; explain a YAML number, a wrong length, a non-digit."""
    allowed = 'a 12-digit string, for example "012345678901"'
    if isinstance(value, bool):
        raise invalid("account id is a boolean", allowed, "write the 12 digits, quoted")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and len(str(abs(value))) > 12:
        raise invalid(
            f"account id is a YAML number of {len(str(abs(value)))} digits, not 12",
            allowed,
            "copy the 12-digit id from the Organizations console and quote it",
        )
    if isinstance(value, int):
        raise invalid(
            "account id is a YAML number, so any leading zero is lost",
            allowed,
            f"quote the id in the stack file, for example {_digits_hint(value)}",
        )
    if not isinstance(value, str):
        raise invalid(
            "account id is not a string", allowed, "write the 12 digits, quoted"
        )
    if value.isdigit() and len(value) != 12:
        raise invalid(
            f"account id has {len(value)} digits, not 12",
            allowed,
            "copy the id from the Organizations console or "
            "`aws organizations list-accounts`",
        )
    if not aws_formats.ACCOUNT_ID.match(value):
        raise invalid(
            "account id must contain digits only",
            allowed,
            "copy the id from the Organizations console or "
            "`aws organizations list-accounts`",
        )
    return value


def _pattern_check(
    what: str, pattern: Any, allowed: str, fix: str
) -> Any:  # returns a validator function
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise invalid(f"{what} is not a string", allowed, fix)
        if not pattern.match(value):
            raise invalid(f"invalid {what}", allowed, fix)
        return value

    return check


def check_region(value: Any) -> str:
    """Accept a region name listed in botocore's endpoint data."""
    regions = aws_formats.known_regions()
    allowed = "an AWS region name, for example eu-west-1"
    if not isinstance(value, str):
        raise invalid("region is not a string", allowed, "write a region name")
    if value not in regions:
        raise invalid(
            "unknown region",
            allowed,
            suggest(value, regions, "use a name from `aws ec2 describe-regions`"),
        )
    return value


def _first_non_ascii(value: str) -> str:
    character = next(character for character in value if not character.isascii())
    name = unicodedata.name(character, "unnamed character")
    return f"{character!r} (U+{ord(character):04X} {name})"


def check_email(value: Any) -> str:
    """Accept an email address of ASCII characters by its syntax; no DNS lookup.

    A non-ASCII letter can make a look-alike of a trusted domain (a Cyrillic a,
    U+0430, in example.com), so alerts and account mail would reach the owner of
    that domain. Cost Anomaly Detection takes ASCII addresses only (SubscriberAddress
    pattern of the Cost Explorer API, botocore 1.44.8), while the Budgets API model
    puts no pattern on a subscriber address.
    """
    allowed = (
        "an email address of ASCII characters, for example aws+payments@example.com"
    )
    if not isinstance(value, str):
        raise invalid("email is not a string", allowed, "write the address, quoted")
    if not value.isascii():
        raise invalid(
            "email address contains the non-ASCII character "
            f"{_first_non_ascii(value)}; addresses must be ASCII, because a "
            "look-alike letter can point an address at another domain",
            allowed,
            "retype the address in ASCII; write an internationalized domain in its "
            "xn-- (punycode) form",
        )
    reason = _email_problem(value)
    if reason is not None:
        raise invalid(f"invalid email address: {reason}", allowed, "correct it")
    return value


@functools.lru_cache(maxsize=4096)
def _email_problem(value: str) -> str | None:
    # An organization repeats a few team addresses in every account's budgets.
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        return str(error)
    return None


def check_tags(value: Any) -> dict[str, str]:
    """Accept a mapping of tag keys to string values under AWS's tag rules."""
    allowed = (
        "a mapping of at most 50 tags; keys 1-128 and values 0-256 characters of "
        'letters, digits, spaces and "_.:/=+-@"; keys not starting with "aws:"'
    )
    if not isinstance(value, dict):
        raise invalid("tags is not a mapping", allowed, "write tags as key: value")
    if len(value) > aws_formats.MAX_TAGS_PER_RESOURCE:
        raise invalid(f"{len(value)} tags", allowed, "remove tags")
    for key, tag_value in value.items():
        if not isinstance(key, str) or not aws_formats.TAG_KEY.match(key):
            raise invalid(f"invalid tag key {key!r}", allowed, "rename the key")
        if key == MANAGED_BY_TAG:
            raise invalid(
                f"tag key {key!r} is set by the program on every resource",
                allowed,
                "rename the key",
            )
        if key.lower().startswith(aws_formats.RESERVED_TAG_PREFIX):
            raise invalid(
                f"tag key {key!r} uses the reserved aws: prefix",
                allowed,
                "rename the key",
            )
        if not isinstance(tag_value, str):
            raise invalid(
                f"tag {key!r} has a value that is not a string",
                allowed,
                "quote the value",
            )
        if not aws_formats.TAG_VALUE.match(tag_value):
            raise invalid(
                f"invalid value for tag {key!r}", allowed, "remove the characters"
            )
    return dict(sorted(value.items()))


def _strict_str(value: Any) -> Any:
    # A YAML number or boolean where a name is expected is a mistake, not a name.
    if not isinstance(value, str):
        raise invalid(
            "value is not a string", "a string", "quote the value in the stack file"
        )
    return value


AccountId = Annotated[str, BeforeValidator(check_account_id)]
Region = Annotated[str, BeforeValidator(check_region)]
Email = Annotated[str, BeforeValidator(check_email)]
Tags = Annotated[dict[str, str], BeforeValidator(check_tags)]
Text = Annotated[str, BeforeValidator(_strict_str)]

OrganizationId = Annotated[
    str,
    BeforeValidator(
        _pattern_check(
            "organization id",
            aws_formats.ORGANIZATION_ID,
            '"o-" and 10-32 lowercase letters or digits, for example o-a1b2c3d4e5',
            "copy the id from `aws organizations describe-organization`",
        )
    ),
]
RootId = Annotated[
    str,
    BeforeValidator(
        _pattern_check(
            "root id",
            aws_formats.ROOT_ID,
            '"r-" and 4-32 lowercase letters or digits, for example r-ab12',
            "copy the id from `aws organizations list-roots`",
        )
    ),
]
OrganizationalUnitId = Annotated[
    str,
    BeforeValidator(
        _pattern_check(
            "organizational unit id",
            aws_formats.ORGANIZATIONAL_UNIT_ID,
            '"ou-", the root part, "-" and 8-32 lowercase letters or digits, '
            "for example ou-ab12-cd34ef56",
            "copy the id from `aws organizations list-organizational-units-for-parent`",
        )
    ),
]


def check_role_name(value: Any) -> str:
    """Accept an IAM role name, reporting a name too long apart from bad characters."""
    allowed = '1-64 characters from letters, digits and "+=,.@_-"'
    if not isinstance(value, str):
        raise invalid("IAM role name is not a string", allowed, "quote the name")
    if value.startswith("arn:") or "/" in value:
        name = value.rsplit("/", 1)[-1]
        raise invalid(
            "IAM role name is an ARN or has a path",
            allowed,
            f"write the role's name alone, {name!r}; the program builds the ARN "
            "from it",
        )
    if len(value) > aws_formats.ROLE_NAME_MAX_LENGTH:
        raise invalid(
            f"IAM role name has {len(value)} characters, over IAM's limit of 64",
            allowed,
            "shorten the name",
        )
    if not aws_formats.ROLE_NAME.match(value):
        raise invalid(
            "invalid IAM role name", allowed, "remove spaces and other characters"
        )
    return value


RoleName = Annotated[str, BeforeValidator(check_role_name)]
AccountName = Annotated[
    str,
    BeforeValidator(
        _pattern_check(
            "account name",
            aws_formats.ACCOUNT_NAME,
            "1-32 letters, digits and hyphens, starting with a letter "
            "(it is part of resource names)",
            "rename it, for example payments-prod",
        )
    ),
]
UnitName = Annotated[
    str,
    BeforeValidator(
        _pattern_check(
            "organizational unit name",
            aws_formats.UNIT_NAME,
            "1-32 letters, digits and hyphens, starting with a letter",
            "rename it, for example workloads-prod",
        )
    ),
]


def _non_empty(value: list[Any]) -> list[Any]:
    if not value:
        raise invalid("list is empty", "at least one entry", "add an entry")
    return value


NonEmpty = AfterValidator(_non_empty)


def _quota(name: str, low: int, high: int, fix: str) -> Any:
    def check(value: Any) -> int:
        allowed = f"a whole number from {low} to {high}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{name} is not a whole number", allowed, fix)
        if not low <= value <= high:
            raise invalid(f"{name} {value} is out of range", allowed, fix)
        return value

    return check


TrustPolicyLength = Annotated[
    int,
    BeforeValidator(
        _quota(
            "trustPolicyLength",
            aws_formats.TRUST_POLICY_LENGTH_DEFAULT,
            aws_formats.TRUST_POLICY_LENGTH_MAX,
            "set the value of the quota granted to the organization's accounts",
        )
    ),
]
ManagedPoliciesPerRole = Annotated[
    int,
    BeforeValidator(
        _quota(
            "managedPoliciesPerRole",
            aws_formats.MANAGED_POLICIES_PER_ROLE_DEFAULT,
            aws_formats.MANAGED_POLICIES_PER_ROLE_MAX,
            "set the value of the quota granted to the organization's accounts",
        )
    ),
]
