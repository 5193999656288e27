"""Acting through an execution role: a boto3 Session with refreshing credentials.

Application code in a member account uses `execution_role_session` to call AWS in
another account through the execution role this program created there. The
session calls `sts:AssumeRole` with the external id and a session name that names
the caller, and botocore refreshes the credentials before they expire, so a
long-running process keeps working past the first hour.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import boto3
import botocore.session
from botocore.credentials import DeferredRefreshableCredentials
from botocore.exceptions import ClientError

from governance import aws_formats

log = logging.getLogger(__name__)

# STS rejects these with AccessDenied when the trust policy does not match.
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})


class AssumeRoleDeniedError(Exception):
    """STS refused to let the caller assume the role."""

    def __init__(self, role_arn: str, session_name: str, message: str) -> None:
        self.role_arn = role_arn
        self.session_name = session_name
        super().__init__(
            f"access denied assuming {role_arn} (session {session_name}): {message}. "
            "Check that the "
            "role's trust policy names this caller's role, that the external id is the "
            "one configured for the role, and that the caller's own policy allows "
            "sts:AssumeRole on the role"
        )


def session_name_for(caller_arn: str) -> str:
    """Derive an STS session name from the caller's ARN, so CloudTrail names it.

    arn:aws:sts::111122223333:assumed-role/payments-exec/fn -> payments-exec.fn
    """
    resource = caller_arn.split(":", 5)[-1]
    parts = resource.split("/")[1:] or [resource]
    name = re.sub(r"[^A-Za-z0-9+=,.@_-]", "-", ".".join(parts))
    return (name or "org-governance")[:64].ljust(2, "-")


def assume_role_session(
    role_arn: str,
    *,
    external_id: str | None = None,
    session_name: str | None = None,
    duration_seconds: int = 3600,
    region_name: str | None = None,
    base_session: boto3.Session | None = None,
) -> boto3.Session:
    """Return a boto3 Session whose calls go out with the role's credentials.

    The first AssumeRole call happens on the first request, and again whenever the
    credentials are within botocore's refresh window (15 minutes) of expiring.
    Raises AssumeRoleDeniedError when STS denies the call.
    """
    base = base_session or boto3.Session(region_name=region_name)
    sts = base.client("sts", region_name=region_name or base.region_name)
    if session_name is None:
        session_name = session_name_for(sts.get_caller_identity()["Arn"])
    if not aws_formats.ROLE_SESSION_NAME.match(session_name):
        raise ValueError(
            f"invalid session name {session_name!r}: use 2-64 characters from letters, "
            'digits and "+=,.@_-"'
        )

    def fetch() -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": session_name,
            "DurationSeconds": duration_seconds,
        }
        if external_id is not None:
            arguments["ExternalId"] = external_id
        try:
            response = sts.assume_role(**arguments)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in DENIED_CODES:
                message = error.response.get("Error", {}).get("Message", "")
                log.warning("AssumeRole denied: role=%s code=%s", role_arn, code)
                raise AssumeRoleDeniedError(role_arn, session_name, message) from error
            raise
        credentials = response["Credentials"]
        log.info("assumed %s until %s", role_arn, credentials["Expiration"].isoformat())
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    refreshing = DeferredRefreshableCredentials(
        refresh_using=fetch, method="assume-role"
    )
    core = botocore.session.get_session()
    # botocore has no public setter for refreshable credentials; the attribute is
    # what its own credential resolver fills.
    core._credentials = refreshing
    return boto3.Session(
        botocore_session=core, region_name=region_name or base.region_name
    )


def execution_role_session(
    account_id: str,
    role_name: str,
    *,
    path: str = "/",
    partition: str = "aws",
    external_id: str | None = None,
    session_name: str | None = None,
    region_name: str | None = None,
    base_session: boto3.Session | None = None,
) -> boto3.Session:
    """Return a Session acting in `account_id` through the named execution role."""
    if not aws_formats.ACCOUNT_ID.match(account_id):
        raise ValueError(f"invalid account id {account_id!r}: use 12 digits")
    return assume_role_session(
        aws_formats.role_arn(partition, account_id, role_name, path),
        external_id=external_id,
        session_name=session_name,
        region_name=region_name,
        base_session=base_session,
    )
