"""Canonical policy form: ordering, AWS's stored form, secrets and sizes."""

from __future__ import annotations

import json

import pytest

from governance import policy
from governance.policy import Secret

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "AWS": [
                    "arn:aws:iam::222222222222:root",
                    "arn:aws:iam::111111111111:root",
                ]
            },
            "Action": ["sts:TagSession", "sts:AssumeRole"],
            "Condition": {
                "StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]},
                "ArnLike": {
                    "aws:PrincipalArn": [
                        "arn:aws:iam::*:role/b",
                        "arn:aws:iam::*:role/a",
                    ]
                },
            },
        }
    ],
}

STORED = {
    "Statement": {
        "Condition": {
            "ArnLike": {
                "aws:PrincipalArn": ["arn:aws:iam::*:role/a", "arn:aws:iam::*:role/b"]
            },
            "StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
        },
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Principal": {
            "AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]
        },
        "Effect": "Allow",
    },
    "Version": "2012-10-17",
}


def test_canonical_orders_everything() -> None:
    text = policy.to_json(policy.canonical(TRUST))
    assert text == (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":'
        '["arn:aws:iam::111111111111:root","arn:aws:iam::222222222222:root"]},'
        '"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"ArnLike":'
        '{"aws:PrincipalArn":["arn:aws:iam::*:role/a","arn:aws:iam::*:role/b"]},'
        '"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}'
    )


def test_stored_form_is_equivalent() -> None:
    assert policy.equivalent(TRUST, STORED)


def test_url_encoded_policy_parses() -> None:
    from urllib.parse import quote

    assert policy.parse(quote(json.dumps(STORED))) == policy.canonical(TRUST)


def test_missing_version_is_not_equivalent() -> None:
    without = dict(STORED)
    del without["Version"]
    assert not policy.equivalent(TRUST, without)


def test_condition_scalars_become_strings() -> None:
    statement = policy.canonical_statement(
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": True}},
        }
    )
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_secret_masked_unless_revealed() -> None:
    document = policy.policy(
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Condition": {"StringEquals": {"sts:ExternalId": Secret("s3cr3t-value")}},
        }
    )
    assert "s3cr3t-value" not in policy.to_json(document)
    assert "[secret]" in policy.to_json(document)
    assert "s3cr3t-value" in policy.to_json(document, reveal=True)
    assert "s3cr3t-value" not in repr(document)
    assert policy.has_secret(document)


def test_size_ignores_whitespace() -> None:
    document = policy.canonical(TRUST)
    compact = policy.to_json(document)
    assert policy.size_without_whitespace(document) == len(compact)
    spaced = policy.policy(
        {"Sid": "A B", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    )
    assert policy.size_without_whitespace(spaced) == len(policy.to_json(spaced)) - 1


def test_unknown_statement_key_rejected() -> None:
    with pytest.raises(ValueError, match="unknown statement keys: Actions"):
        policy.canonical_statement({"Effect": "Allow", "Actions": "s3:*"})
