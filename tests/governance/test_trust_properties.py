"""Properties of trust policies, for any generated organization and role.

The oracle `configuration_trusts` reads the raw configuration directly, never the
policy builder, so the exactness property compares two independent decisions.
"""

from __future__ import annotations

import copy
import json
import random
import re
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st

from governance import config, policy
from governance.evaluate import Decision, Request, evaluate
from governance.plan import plan_organization
from governance.problems import ConfigError
from governance.trust import trust_policy
from tests.strategies import Generated, configurations, organizations, requests

SECRET_KEYS = frozenset({"executionRoles"})
REQUESTS_PER_CONFIGURATION = 12


def trust_documents(generated: Generated) -> dict[str, dict[str, Any]]:
    """Validate a generated configuration and build each role's trust policy."""
    organization = config.load(generated.values, SECRET_KEYS)
    return {
        role.name: trust_policy(role, organization.id, organization.partition)
        for role in organization.execution_roles
    }


def role_matches(pattern: str, principal_arn: str) -> bool:
    """Say whether a caller's role is the one a trusted role pattern names."""
    path_and_name = principal_arn.split(":role/", 1)[1]
    if pattern.endswith("*"):
        return path_and_name.startswith(pattern[:-1])
    return path_and_name == pattern


def configuration_trusts(
    generated: Generated, role: dict[str, Any], request: Request
) -> bool:
    """Decide from the raw configuration whether the role trusts the request."""
    allowed_actions = {"sts:AssumeRole"}
    if role.get("allowSessionTags"):
        allowed_actions.add("sts:TagSession")
    if role.get("allowSourceIdentity"):
        allowed_actions.add("sts:SetSourceIdentity")
    if request.action not in allowed_actions:
        return False
    if "externalId" in role and request.external_id != role["externalId"]:
        return False
    if role.get("requireMfa") and not request.mfa_present:
        return False
    organization_id = generated.organization["id"]
    for entry in role["trustedPrincipals"]:
        roles = entry["roles"]
        named = any(role_matches(pattern, request.principal_arn) for pattern in roles)
        if "account" in entry:
            if (
                request.principal_account == generated.account_id(entry["account"])
                and request.organization_id == organization_id
                and named
            ):
                return True
        elif "organizationalUnit" in entry:
            unit = entry["organizationalUnit"]
            members = {account["id"] for account in generated.accounts_in_unit(unit)}
            path = generated.unit_path(unit)
            if (
                request.principal_account in members
                and request.organization_id == organization_id
                and any(claimed.startswith(path) for claimed in request.org_paths)
                and named
            ):
                return True
        elif request.principal_account == entry["partnerAccountId"] and (
            not roles or named
        ):
            return True
    return False


@given(st.data())
def test_trust_grants_exactly_configuration(data: st.DataObject) -> None:
    generated = data.draw(configurations())
    documents = trust_documents(generated)
    for _ in range(REQUESTS_PER_CONFIGURATION):
        role = data.draw(st.sampled_from(generated.roles))
        request = data.draw(requests(generated, role))
        document = documents[role["name"]]
        note(policy.to_json(document, pretty=True))
        decision = evaluate(document, request)
        expected = configuration_trusts(generated, role, request)
        assert (decision is Decision.ALLOW) == expected, (
            f"{request} was {decision.value}, configuration says "
            f"{'allow' if expected else 'deny'}"
        )


@given(configurations())
def test_trust_has_no_wildcard_or_not_principal(generated: Generated) -> None:
    allowed = {"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"}
    for document in trust_documents(generated).values():
        for statement in document["Statement"]:
            assert "NotPrincipal" not in statement
            assert "NotAction" not in statement
            assert statement["Effect"] == "Allow"
            principals = statement["Principal"]["AWS"]
            principals = principals if isinstance(principals, list) else [principals]
            assert "*" not in principals
            actions = statement["Action"]
            actions = set(actions if isinstance(actions, list) else [actions])
            assert actions <= allowed
            assert "sts:AssumeRole" in actions


@given(configurations())
def test_outside_statements_require_external_id(generated: Generated) -> None:
    members = {account["id"] for account in generated.accounts}
    for name, document in trust_documents(generated).items():
        raw = next(role for role in generated.roles if role["name"] == name)
        for statement in document["Statement"]:
            conditions = statement.get("Condition", {})
            equals = conditions.get("StringEquals", {})
            accounts = statement["Principal"]["AWS"]
            accounts = accounts if isinstance(accounts, list) else [accounts]
            ids = {arn.split(":")[4] for arn in accounts}
            if ids <= members:
                assert equals.get("aws:PrincipalOrgID") == generated.organization["id"]
            else:
                assert "aws:PrincipalOrgID" not in equals
                assert equals["sts:ExternalId"] == policy.Secret(raw["externalId"])


@given(configurations())
def test_principals_are_members_or_partners(generated: Generated) -> None:
    known = {account["id"] for account in generated.accounts} | set(
        generated.partner_ids
    )
    for document in trust_documents(generated).values():
        for statement in document["Statement"]:
            accounts = statement["Principal"]["AWS"]
            for arn in accounts if isinstance(accounts, list) else [accounts]:
                assert re.fullmatch(r"arn:aws:iam::[0-9]{12}:root", arn)
                assert arn.split(":")[4] in known


def permute(generated: Generated, seed: int) -> Generated:
    """Shuffle every list of the configuration whose order carries no meaning."""
    shuffler = random.Random(seed)
    values = copy.deepcopy(generated.values)
    shuffler.shuffle(values["accounts"])
    shuffler.shuffle(values["organization"]["organizationalUnits"])
    shuffler.shuffle(values["executionRoles"])
    for role in values["executionRoles"]:
        shuffler.shuffle(role["trustedPrincipals"])
        for entry in role["trustedPrincipals"]:
            shuffler.shuffle(entry["roles"])
    return Generated(values, generated.partner_ids)


def all_documents(generated: Generated) -> dict[str, tuple[str, ...]]:
    """Render every role's policies, secrets revealed, by resource name."""
    organization = config.load(generated.values, SECRET_KEYS)
    plan = plan_organization(organization, "org-governance", "test")
    documents = {}
    for account in plan.accounts:
        for role in account.execution_roles:
            texts = [policy.to_json(role.trust_policy, reveal=True)]
            if role.inline_policy is not None:
                texts.append(policy.to_json(role.inline_policy, reveal=True))
            documents[role.resource_name] = tuple(texts)
    return documents


def aws_stored_form(document: dict[str, Any], seed: int) -> dict[str, Any]:
    """Rewrite a policy the way AWS may return it.

    Statements, keys and lists come back reordered, and a single value may come
    back as a one-element list or the reverse.
    """
    shuffler = random.Random(seed)

    def shuffled(items: list[Any]) -> list[Any]:
        items = list(items)
        shuffler.shuffle(items)
        return items

    def values(value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        if len(items) == 1 and shuffler.random() < 0.5:
            return items[0] if isinstance(value, list) else [value]
        return shuffled(items)

    def statement(original: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key in shuffled(list(original)):
            value = original[key]
            if key == "Principal":
                result[key] = {
                    kind: values(value[kind]) for kind in shuffled(list(value))
                }
            elif key == "Condition":
                result[key] = {
                    operator: {
                        name: values(value[operator][name])
                        for name in shuffled(list(value[operator]))
                    }
                    for operator in shuffled(list(value))
                }
            elif key in ("Action", "Resource"):
                result[key] = values(value)
            else:
                result[key] = value
        return result

    revealed = json.loads(policy.to_json(document, reveal=True))
    return {
        "Statement": [statement(item) for item in shuffled(revealed["Statement"])],
        "Version": revealed["Version"],
    }


@given(configurations(), st.integers(0, 2**32))
def test_policies_canonical_and_deterministic(generated: Generated, seed: int) -> None:
    first = all_documents(generated)
    assert all_documents(generated) == first
    assert all_documents(permute(generated, seed)) == first
    for document in trust_documents(generated).values():
        revealed = json.loads(policy.to_json(document, reveal=True))
        assert policy.equivalent(revealed, aws_stored_form(document, seed))


@given(configurations())
def test_onboarding_untrusted_account_is_local(generated: Generated) -> None:
    before = all_documents(generated)
    values = copy.deepcopy(generated.values)
    values["organization"]["organizationalUnits"].append(
        {"name": "onboarding", "id": "ou-zzzz-onboard1"}
    )
    taken = json.dumps(values) + json.dumps(generated.partner_ids)
    newcomer = next(
        candidate
        for candidate in (f"{number:012d}" for number in range(10**11, 10**12))
        if candidate not in taken
    )
    values["accounts"].append(
        {"name": "newcomer", "id": newcomer, "organizationalUnit": "onboarding"}
    )
    after = all_documents(Generated(values, generated.partner_ids))
    for name, documents in before.items():
        assert after[name] == documents, f"{name} changed when an account was onboarded"
    for name in set(after) - set(before):
        assert name.startswith("newcomer/")


@given(configurations())
def test_removed_account_leaves_every_policy(generated: Generated) -> None:
    values = copy.deepcopy(generated.values)
    removed = values["accounts"][-1]
    values["accounts"].pop()
    if not values["accounts"]:
        return
    for role in values["executionRoles"]:
        role["targets"] = {"all": True}
        role["trustedPrincipals"] = [
            entry
            for entry in role["trustedPrincipals"]
            if entry.get("account") not in (removed["name"], removed["id"])
            and not (
                "organizationalUnit" in entry
                and all(
                    account["id"] == removed["id"]
                    for account in generated.accounts_in_unit(
                        entry["organizationalUnit"]
                    )
                )
            )
        ]
    values["executionRoles"] = [
        role for role in values["executionRoles"] if role["trustedPrincipals"]
    ]
    if not values["executionRoles"]:
        return
    documents = all_documents(Generated(values, generated.partner_ids))
    # The id as a whole value or ARN part; an organization id such as
    # o-000000000000 may contain the same digits after its hyphen.
    whole_id = re.compile(rf"(?<![0-9A-Za-z-]){removed['id']}(?![0-9])")
    assert not whole_id.search(json.dumps(documents))
    assert not [name for name in documents if name.startswith(f"{removed['name']}/")]


@given(
    organizations(max_accounts=40), st.integers(1, 40), st.sampled_from([2048, 4096])
)
def test_quota_enforced_or_rejected(
    generated: Generated, trusted: int, quota: int
) -> None:
    values = copy.deepcopy(generated.values)
    values["organization"]["quotas"] = {"trustPolicyLength": quota}
    values["executionRoles"] = [
        {
            "name": "Wide",
            "targets": {"all": True},
            "trustedPrincipals": [
                {
                    "account": account["name"],
                    "roles": ["ci/deployer", "service-role/exec"],
                }
                for account in values["accounts"][:trusted]
            ],
        }
    ]
    try:
        organization = config.load(values, SECRET_KEYS)
        plan = plan_organization(organization, "org-governance", "test")
    except ConfigError as error:
        messages = [problem.message for problem in error.problems]
        assert len(messages) == 1
        assert messages[0].startswith("trust policy of role Wide is ")
        assert messages[0].endswith(" characters without whitespace, over the quota")
        return
    for account in plan.accounts:
        for role in account.execution_roles:
            assert policy.size_without_whitespace(role.trust_policy) <= quota
            assert len(role.name) <= 64
