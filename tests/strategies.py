"""Hypothesis generators for organizations, execution roles and AssumeRole requests.

Every id comes from the format patterns in `governance.aws_formats`, the same ones
the validator checks. Configurations are generated as the raw values a stack file
holds, so a property runs the whole path: validation, planning, policy building.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from governance import aws_formats
from governance.evaluate import Request

# Trusted role patterns: names, names under a path, every role under a path.
TRUSTED_ROLES = [
    "deployer",
    "Auditor",
    "lambda-exec",
    "ci/deployer",
    "ci/builder",
    "service-role/exec",
    "ci/*",
    "service-role/*",
]
# Roles a caller may have: the named ones, one deeper under a path, and strangers.
CALLER_ROLES = [
    "deployer",
    "Auditor",
    "auditor",
    "lambda-exec",
    "ci/deployer",
    "ci/builder",
    "ci/nested/deployer",
    "service-role/exec",
    "service-role/other",
    "stranger",
]
ACTIONS = [
    "sts:AssumeRole",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:AssumeRoleWithWebIdentity",
]

account_ids = st.from_regex(aws_formats.ACCOUNT_ID, fullmatch=True)
organization_ids = st.from_regex(aws_formats.ORGANIZATION_ID, fullmatch=True)
root_ids = st.from_regex(aws_formats.ROOT_ID, fullmatch=True)
unit_ids = st.from_regex(aws_formats.ORGANIZATIONAL_UNIT_ID, fullmatch=True)
external_ids = st.text(
    alphabet=string.ascii_letters + string.digits + "_+=,.@:/-", min_size=2, max_size=48
)


@dataclass
class Generated:
    """A generated configuration with the facts the test oracle needs."""

    values: dict[str, Any]
    partner_ids: list[str]

    @property
    def organization(self) -> dict[str, Any]:
        return self.values["organization"]

    @property
    def accounts(self) -> list[dict[str, Any]]:
        return self.values["accounts"]

    @property
    def roles(self) -> list[dict[str, Any]]:
        return self.values.get("executionRoles", [])

    def unit_path(self, name: str) -> str:
        """Compute a unit's organization path from the raw unit list."""
        units = {
            unit["name"]: unit for unit in self.organization["organizationalUnits"]
        }
        chain = []
        current: str | None = name
        while current is not None:
            chain.append(units[current]["id"])
            current = units[current].get("parent")
        prefix = f"{self.organization['id']}/{self.organization['rootId']}/"
        return prefix + "".join(f"{unit}/" for unit in reversed(chain))

    def accounts_in_unit(self, name: str) -> list[dict[str, Any]]:
        """Return the raw accounts whose unit is the named one or below it."""
        path = self.unit_path(name)
        return [
            account
            for account in self.accounts
            if self.unit_path(account["organizationalUnit"]).startswith(path)
        ]

    def account_id(self, reference: str) -> str:
        """Resolve an account entry's name or id to its id."""
        for account in self.accounts:
            if reference in (account["name"], account["id"]):
                return account["id"]
        raise KeyError(reference)


@st.composite
def organizations(draw: st.DrawFn, max_accounts: int = 6) -> Generated:
    """Draw an organization: units in a tree, accounts, and outside partners."""
    unit_count = draw(st.integers(1, 4))
    ids = draw(
        st.lists(unit_ids, min_size=unit_count, max_size=unit_count, unique=True)
    )
    units = []
    for index, unit_id in enumerate(ids):
        unit: dict[str, Any] = {"name": f"unit-{index}", "id": unit_id}
        parent = draw(st.none() | st.integers(0, index - 1)) if index else None
        if parent is not None:
            unit["parent"] = f"unit-{parent}"
        units.append(unit)

    count = draw(st.integers(1, max_accounts))
    extra = draw(st.integers(0, 2))
    all_ids = draw(
        st.lists(
            account_ids,
            min_size=count + 1 + extra,
            max_size=count + 1 + extra,
            unique=True,
        )
    )
    management, member_ids, partner_ids = (
        all_ids[0],
        all_ids[1 : count + 1],
        all_ids[count + 1 :],
    )
    accounts = [
        {
            "name": f"account-{index}",
            "id": account_id,
            "organizationalUnit": draw(
                st.sampled_from([unit["name"] for unit in units])
            ),
        }
        for index, account_id in enumerate(member_ids)
    ]
    organization = {
        "id": draw(organization_ids),
        "rootId": draw(root_ids),
        "managementAccountId": management,
        "managementRoleName": "OrgGovernanceDeploymentRole",
        "defaultRegion": "eu-west-1",
        "organizationalUnits": units,
        # The largest quota IAM grants, so the properties of exactness never meet
        # the quota; the quota property sets its own.
        "quotas": {"trustPolicyLength": 8192},
    }
    return Generated({"organization": organization, "accounts": accounts}, partner_ids)


@st.composite
def trusted_principals(draw: st.DrawFn, generated: Generated) -> list[dict[str, Any]]:
    """Draw 1-4 trusted principal entries of the three kinds."""
    units_with_accounts = [
        unit["name"]
        for unit in generated.organization["organizationalUnits"]
        if generated.accounts_in_unit(unit["name"])
    ]
    kinds = ["account"]
    if units_with_accounts:
        kinds.append("unit")
    if generated.partner_ids:
        kinds.append("partner")
    entries = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(kinds))
        roles = draw(
            st.lists(
                st.sampled_from(TRUSTED_ROLES), min_size=1, max_size=3, unique=True
            )
        )
        if kind == "account":
            account = draw(st.sampled_from(generated.accounts))
            reference = draw(st.sampled_from([account["name"], account["id"]]))
            entries.append({"account": reference, "roles": roles})
        elif kind == "unit":
            entries.append(
                {
                    "organizationalUnit": draw(st.sampled_from(units_with_accounts)),
                    "roles": roles,
                }
            )
        else:
            partner = draw(st.sampled_from(generated.partner_ids))
            whole = draw(st.booleans())
            entries.append(
                {"partnerAccountId": partner, "roles": [] if whole else roles}
            )
    return entries


@st.composite
def role_definitions(
    draw: st.DrawFn, generated: Generated, name: str
) -> dict[str, Any]:
    """Draw one execution role definition for a generated organization."""
    trust = draw(trusted_principals(generated))
    needs_external_id = any("partnerAccountId" in entry for entry in trust)
    role: dict[str, Any] = {
        "name": name,
        "targets": draw(
            st.sampled_from(
                [{"all": True}, {"accounts": [generated.accounts[0]["name"]]}]
            )
        ),
        "trustedPrincipals": trust,
        "requireMfa": draw(st.booleans()),
        "allowSessionTags": draw(st.booleans()),
        "allowSourceIdentity": draw(st.booleans()),
    }
    if needs_external_id or draw(st.booleans()):
        role["externalId"] = draw(external_ids)
    return role


@st.composite
def configurations(draw: st.DrawFn, max_accounts: int = 6) -> Generated:
    """Draw an organization with one or two execution roles."""
    generated = draw(organizations(max_accounts=max_accounts))
    count = draw(st.integers(1, 2))
    generated.values["executionRoles"] = [
        draw(role_definitions(generated, f"Role{index}")) for index in range(count)
    ]
    return generated


@st.composite
def requests(draw: st.DrawFn, generated: Generated, role: dict[str, Any]) -> Request:
    """Draw an AssumeRole request from inside or outside the organization.

    Callers come from member accounts, partners and strangers; their organization
    id and paths are usually the true ones and sometimes not, and their external
    id and MFA are right or wrong.
    """
    members = {account["id"]: account for account in generated.accounts}
    stranger = draw(account_ids.filter(lambda value: value not in members))
    account = draw(st.sampled_from([*members, *generated.partner_ids, stranger]))
    caller_role = draw(st.sampled_from(CALLER_ROLES))
    other_organization = draw(
        organization_ids.filter(lambda value: value != generated.organization["id"])
    )
    if account in members:
        true_path = generated.unit_path(members[account]["organizationalUnit"])
        organization_id = draw(
            st.sampled_from([generated.organization["id"]] * 3 + [other_organization])
        )
        other_paths = [
            generated.unit_path(unit["name"])
            for unit in generated.organization["organizationalUnits"]
        ]
        paths = draw(
            st.sampled_from(
                [(true_path,)] * 3 + [(path,) for path in other_paths] + [()]
            )
        )
    else:
        organization_id = draw(st.sampled_from([None, other_organization]))
        paths = ()
    external_id = role.get("externalId")
    supplied = draw(st.sampled_from([external_id, None, "wrong-external-id"]))
    return Request(
        principal_arn=f"arn:aws:iam::{account}:role/{caller_role}",
        action=draw(st.sampled_from(ACTIONS)),
        organization_id=organization_id,
        org_paths=paths,
        external_id=supplied,
        mfa_present=draw(st.booleans()),
    )
