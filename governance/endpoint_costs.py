"""The estimated monthly cost of each account's VPC endpoints, computed from the plan.

AWS bills an interface endpoint for every hour it exists in every Availability
Zone, plus each GB it processes; gateway endpoints (S3, DynamoDB) cost nothing.
This module estimates the hourly part only:

    interface endpoints x Availability Zones x 730 hours x hourly price

It is an estimate: the price table below is small and dated, regions missing from
it are priced at the us-east-1 price, and data processing is left out because it
depends on traffic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from governance.endpoints import EndpointPlan, NetworkPlan
from governance.network import INTERFACE
from governance.plan import OrganizationPlan

# The month of AWS's price pages: 365 days x 24 hours / 12.
HOURS_PER_MONTH = 730

# Price in USD of one interface endpoint in one Availability Zone for one hour.
# Source: the us-east-1 price ($0.010 per hour, as of 1 June 2026) quoted in
# https://www.zacfukuda.com/blog/aws-nat-gateway-vs-vpc-endpoint ; AWS publishes the
# prices of every region at https://aws.amazon.com/privatelink/pricing/ .
# NOTE: only the us-east-1 price could be confirmed here, because the AWS price page
# was out of reach. Other regions are estimated at it, and the preview marks them.
# Add a region once its price is read from the AWS page.
HOURLY_PRICE_USD: Mapping[str, Decimal] = {
    "us-east-1": Decimal("0.010"),
}
PRICE_DATE = "2026-06-01"
PRICE_SOURCE = (
    "us-east-1 interface endpoint price quoted for 2026-06-01 by "
    "https://www.zacfukuda.com/blog/aws-nat-gateway-vs-vpc-endpoint; "
    "all regions: https://aws.amazon.com/privatelink/pricing/"
)
FALLBACK_PRICE_REGION = "us-east-1"
BASIS = (
    "estimate: interface endpoints x Availability Zones x "
    f"{HOURS_PER_MONTH} hours x hourly price per endpoint and zone; "
    "data processing (per GB) not included; gateway endpoints are free"
)

CENT = Decimal("0.01")


@dataclass(frozen=True)
class EndpointCost:
    """One endpoint's estimated monthly cost; zero for a gateway endpoint."""

    endpoint: EndpointPlan
    monthly_usd: Decimal


@dataclass(frozen=True)
class AccountCost:
    """One account's endpoints, the hourly price used and the monthly estimate.

    `price_region` is the region whose price was used: the account's own region
    when the table has it, else FALLBACK_PRICE_REGION.
    """

    account_name: str
    account_id: str
    network: NetworkPlan
    hourly_price_usd: Decimal
    price_region: str
    endpoints: tuple[EndpointCost, ...]
    monthly_usd: Decimal

    def as_json(self) -> dict[str, Any]:
        """Return the account's estimate as a JSON-ready mapping."""
        return {
            "accountId": self.account_id,
            "region": self.network.region,
            "hourlyPriceUsd": float(self.hourly_price_usd),
            "priceRegion": self.price_region,
            "interfaceEndpoints": len(self.network.interface_endpoints),
            "gatewayEndpoints": len(self.network.gateway_endpoints),
            "endpoints": [
                {
                    "name": cost.endpoint.name,
                    "serviceName": cost.endpoint.service_name,
                    "type": cost.endpoint.type,
                    "availabilityZones": len(cost.endpoint.availability_zones),
                    "monthlyUsd": float(cost.monthly_usd),
                }
                for cost in self.endpoints
            ],
            "monthlyUsd": float(self.monthly_usd),
        }


@dataclass(frozen=True)
class CostEstimate:
    """The estimate of every account with a network, sorted by account name."""

    accounts: tuple[AccountCost, ...]
    monthly_usd: Decimal

    def as_json(self) -> dict[str, Any]:
        """Return the estimate as the `costs` object of the preview's JSON."""
        return {
            "currency": "USD",
            "basis": BASIS,
            "hoursPerMonth": HOURS_PER_MONTH,
            "priceDate": PRICE_DATE,
            "priceSource": PRICE_SOURCE,
            "accounts": {cost.account_name: cost.as_json() for cost in self.accounts},
            "totalMonthlyUsd": float(self.monthly_usd),
        }


def hourly_price(region: str) -> tuple[Decimal, str]:
    """Return the hourly price of an interface endpoint in one zone, and its region.

    A region missing from HOURLY_PRICE_USD gets the FALLBACK_PRICE_REGION price.
    """
    if region in HOURLY_PRICE_USD:
        return HOURLY_PRICE_USD[region], region
    return HOURLY_PRICE_USD[FALLBACK_PRICE_REGION], FALLBACK_PRICE_REGION


def estimate_costs(plan: OrganizationPlan) -> CostEstimate:
    """Estimate the monthly cost of every account's endpoints from the plan."""
    accounts = []
    for account in plan.accounts:
        if account.network is None:
            continue
        price, price_region = hourly_price(account.network.region)
        endpoints = tuple(
            EndpointCost(
                endpoint,
                (price * len(endpoint.availability_zones) * HOURS_PER_MONTH).quantize(
                    CENT
                )
                if endpoint.type == INTERFACE
                else Decimal("0.00"),
            )
            for endpoint in account.network.endpoints
        )
        accounts.append(
            AccountCost(
                account_name=account.name,
                account_id=account.account_id,
                network=account.network,
                hourly_price_usd=price,
                price_region=price_region,
                endpoints=endpoints,
                monthly_usd=sum(
                    (cost.monthly_usd for cost in endpoints), Decimal("0.00")
                ),
            )
        )
    return CostEstimate(
        accounts=tuple(accounts),
        monthly_usd=sum((cost.monthly_usd for cost in accounts), Decimal("0.00")),
    )
