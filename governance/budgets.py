"""Budget alarms: configuration models, their checks and the resolved settings.

`organization.budget` is the default of every account: the monthly limit in USD,
email recipients, notifications, per-service budgets and cost anomaly detection.
`accounts[i].budget` overrides it key by key. A key the account sets replaces the
organization's value whole, so lists are never merged. Without
`organization.budget`, only the accounts with a `budget` entry get a budget.

Field formats and AWS quotas are checked by the models. `check` reports what needs
more than one field: a limit missing after the defaults are applied, a notification
without any subscriber, a percentage threshold over the AWS maximum, duplicate
notifications or services, and anomaly alerts without recipients.
`resolve_account_budget` and `resolve_anomaly_detection` return the settings the
plan reads.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from governance import aws_formats
from governance.fields import Email, Model, invalid, suggest
from governance.problems import Problem, show

NOTIFICATION_TYPES = ("ACTUAL", "FORECASTED")
THRESHOLD_TYPES = ("PERCENTAGE", "ABSOLUTE_VALUE")
COMPARISON_OPERATORS = ("GREATER_THAN", "LESS_THAN", "EQUAL_TO")
# IMMEDIATE alerts go to an SNS topic only, and the anomaly subscription sends email.
ANOMALY_FREQUENCIES = ("DAILY", "WEEKLY")
DEFAULT_ANOMALY_THRESHOLD_USD = 100
# Amounts in USD are kept to whole cents, and percentages to the same 2 decimals.
CENT = Decimal("0.01")


def plain_number(number: float) -> str:
    """Write a threshold without exponent or trailing zeros: 80.0 -> "80"."""
    return format(Decimal(repr(number)).normalize(), "f")


def _choice(label: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    allowed = "one of " + ", ".join(choices)

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise invalid(
                f"{label} is not a string", allowed, "write one of the values"
            )
        if value not in choices:
            raise invalid(
                f"unknown {label}",
                allowed,
                suggest(value.upper(), list(choices), "use one of the values listed"),
            )
        return value

    return check


def _number(
    label: str, example: str, maximum: int, over: str
) -> Callable[[Any], Decimal]:
    """Return a check of a positive amount or threshold, kept to 2 decimal places.

    `over` is the message when the value is over `maximum`. The check works on
    Decimal, which represents any YAML integer exactly: float() of an integer of more
    than 308 digits raises OverflowError.
    """
    allowed = (
        f"a number from {CENT} to {maximum:,} with at most 2 decimal places, "
        f"for example {example}"
    )

    def check(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(
                f"{label} is not a number",
                allowed,
                f"write the number without quotes, % or a currency, like {example}",
            )
        # repr() first, so that 0.1 stays 0.1 rather than its binary expansion.
        number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
        if not number.is_finite():
            raise invalid(
                f"{label} is not a finite number",
                allowed,
                f"write a number like {example}",
            )
        if number <= 0:
            raise invalid(
                f"{label} must be greater than 0", allowed, "write a positive number"
            )
        if number > maximum:
            raise invalid(over, allowed, "write a smaller number")
        if number != number.quantize(CENT):
            raise invalid(
                f"{label} has more than 2 decimal places",
                allowed,
                "round it to 2 decimal places (whole cents for an amount in USD)",
            )
        return number

    return check


_threshold_number = _number(
    "threshold",
    "80",
    aws_formats.MAX_NOTIFICATION_THRESHOLD,
    "threshold is over the AWS maximum",
)


def _threshold(value: Any) -> float:
    # The Budgets API takes a notification threshold as a double. Below 2**44 doubles
    # are at most 2**-9 apart, closer than a cent, so every accepted value survives
    # the round trip to float and back (repr).
    return float(_threshold_number(value))


def _strict_bool(label: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise invalid(
                f"{label} is not true or false", "true or false", "write true or false"
            )
        return value

    return check


def _check_sns_topic(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, list) or (isinstance(value, str) and value.startswith("arn:")):
        # The only topic a notification can name is the account's budget topic.
        raise invalid(
            "a notification publishes to at most "
            f"{aws_formats.MAX_SNS_TOPICS_PER_NOTIFICATION} SNS topic, the "
            "account's budget topic",
            "true (publish to the account's budget topic) or false",
            "write true, and subscribe other endpoints to the account's topic",
        )
    raise invalid(
        "snsTopic is not true or false", "true or false", "write true or false"
    )


def _without_vendor(name: str) -> str:
    # Most names start with "Amazon " or "AWS ", which would make any two look alike.
    for prefix in ("Amazon ", "AWS "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _check_service(value: Any) -> str:
    services = aws_formats.COST_EXPLORER_SERVICES
    allowed = 'a Cost Explorer service name, for example "AWS Lambda"'
    if not isinstance(value, str):
        raise invalid("service is not a string", allowed, "write the name, quoted")
    if value in services:
        return value
    by_short_name = {short.lower(): name for name, short in services.items()}
    if value.lower() in by_short_name:
        fix = (
            f'write "{by_short_name[value.lower()]}", the Cost Explorer name of {value}'
        )
    else:
        by_stem = {_without_vendor(name): name for name in services}
        close = difflib.get_close_matches(
            _without_vendor(value), list(by_stem), n=3, cutoff=0.6
        )
        fix = (
            "did you mean " + " or ".join(by_stem[stem] for stem in close) + "?"
            if close
            else "use the name that `aws ce get-dimension-values --dimension "
            "SERVICE` returns; if it is missing here, add it to "
            "aws_formats.COST_EXPLORER_SERVICES"
        )
    raise invalid("unknown Cost Explorer service name", allowed, fix)


def _email_list(maximum: int, owner: str) -> Callable[[list[str]], list[str]]:
    def check(emails: list[str]) -> list[str]:
        allowed = f"at most {maximum} distinct email addresses"
        if len(emails) > maximum:
            raise invalid(
                f"{len(emails)} email addresses, but {owner} sends to at most "
                f"{maximum}",
                allowed,
                "remove addresses, or send to a mailing list",
            )
        seen: set[str] = set()
        for email in emails:
            if email.lower() in seen:
                raise invalid(
                    f"duplicate email address {email}",
                    allowed,
                    "remove the second one",
                )
            seen.add(email.lower())
        return emails

    return check


def _check_frequency(value: Any) -> str:
    if value == "IMMEDIATE":
        raise invalid(
            "IMMEDIATE anomaly alerts go to an SNS topic only, and this subscription "
            "sends email",
            "one of " + ", ".join(ANOMALY_FREQUENCIES),
            "use DAILY",
        )
    return _choice("anomaly alert frequency", ANOMALY_FREQUENCIES)(value)


def _check_notification_count(notifications: list[Any]) -> list[Any]:
    maximum = aws_formats.MAX_NOTIFICATIONS_PER_BUDGET
    if not notifications:
        raise invalid(
            "notification list is empty, so the budget would alert no one",
            f"1 to {maximum} notifications",
            "add a notification, or leave out notifications for the defaults",
        )
    if len(notifications) > maximum:
        raise invalid(
            f"{len(notifications)} notifications, but a budget has at most {maximum}",
            f"1 to {maximum} notifications",
            "remove notifications, or merge those with the same threshold",
        )
    return notifications


NotificationType = Annotated[
    str, BeforeValidator(_choice("notification type", NOTIFICATION_TYPES))
]
ThresholdType = Annotated[
    str, BeforeValidator(_choice("threshold type", THRESHOLD_TYPES))
]
ComparisonOperator = Annotated[
    str, BeforeValidator(_choice("comparison operator", COMPARISON_OPERATORS))
]
Threshold = Annotated[float, BeforeValidator(_threshold)]
LimitUsd = Annotated[
    Decimal,
    BeforeValidator(
        _number(
            "limitUsd",
            "1000",
            aws_formats.MAX_BUDGET_LIMIT_USD,
            "limitUsd is over the maximum budget limit this program accepts",
        )
    ),
]
AnomalyThresholdUsd = Annotated[
    Decimal,
    BeforeValidator(
        _number(
            "thresholdUsd",
            "100",
            aws_formats.MAX_ANOMALY_THRESHOLD_USD,
            "thresholdUsd is over the AWS maximum",
        )
    ),
]
Frequency = Annotated[str, BeforeValidator(_check_frequency)]
SnsTopic = Annotated[bool, BeforeValidator(_check_sns_topic)]
Enabled = Annotated[bool, BeforeValidator(_strict_bool("enabled"))]
ServiceName = Annotated[str, BeforeValidator(_check_service)]
NotificationEmails = Annotated[
    list[Email],
    AfterValidator(
        _email_list(aws_formats.MAX_EMAILS_PER_NOTIFICATION, "a budget notification")
    ),
]
AnomalyEmails = Annotated[
    list[Email],
    AfterValidator(
        _email_list(
            aws_formats.MAX_ANOMALY_SUBSCRIPTION_EMAILS, "an anomaly subscription"
        )
    ),
]


class NotificationConfig(Model):
    """One budget notification: when it fires and who receives it.

    `emails` left out means the budget's `emails`. `snsTopic` (default true) also
    publishes to the account's budget topic, for automation.
    """

    notification_type: NotificationType
    threshold: Threshold
    threshold_type: ThresholdType = "PERCENTAGE"
    comparison_operator: ComparisonOperator = "GREATER_THAN"
    emails: NotificationEmails | None = None
    sns_topic: SnsTopic = True


Notifications = Annotated[
    list[NotificationConfig], AfterValidator(_check_notification_count)
]


class ServiceBudgetConfig(Model):
    """A budget on one service's cost in the account, for example AWS Lambda only.

    Without `emails` or `notifications` it takes those of the account's budget.
    Percentage thresholds then apply to the service's own limit.
    """

    service: ServiceName
    limit_usd: LimitUsd
    emails: NotificationEmails | None = None
    notifications: Notifications | None = None


class BudgetConfig(Model):
    """An account's budget, or the keys of the organization's default it overrides."""

    limit_usd: LimitUsd | None = None
    emails: NotificationEmails | None = None
    notifications: Notifications | None = None
    services: list[ServiceBudgetConfig] | None = None


class AnomalyDetectionConfig(Model):
    """Cost anomaly alerts on every member account, sent from the management account.

    `emails` left out means `organization.budget.emails`.
    """

    enabled: Enabled = True
    threshold_usd: AnomalyThresholdUsd = Decimal(DEFAULT_ANOMALY_THRESHOLD_USD)
    frequency: Frequency = "DAILY"
    emails: AnomalyEmails | None = None


class OrganizationBudgetConfig(BudgetConfig):
    """The default budget of every account, and the organization's anomaly alerts."""

    anomaly_detection: AnomalyDetectionConfig = Field(
        default_factory=AnomalyDetectionConfig
    )


# 80 % of actual cost warns before the limit, 100 % of actual cost reports that it
# is reached, and 100 % of forecasted cost warns days ahead that it will be.
DEFAULT_NOTIFICATIONS = tuple(
    NotificationConfig.model_validate(entry)
    for entry in (
        {"notificationType": "ACTUAL", "threshold": 80},
        {"notificationType": "ACTUAL", "threshold": 100},
        {"notificationType": "FORECASTED", "threshold": 100},
    )
)


@dataclass(frozen=True)
class Notification:
    """A resolved notification with its subscribers, emails sorted."""

    notification_type: str
    comparison_operator: str
    threshold: float
    threshold_type: str
    emails: tuple[str, ...]
    sns_topic: bool

    def describe(self) -> str:
        """Return the notification in one line, for example `ACTUAL > 80 %`."""
        operator = {"GREATER_THAN": ">", "LESS_THAN": "<", "EQUAL_TO": "="}[
            self.comparison_operator
        ]
        threshold = plain_number(self.threshold)
        unit = "%" if self.threshold_type == "PERCENTAGE" else "USD"
        return f"{self.notification_type} {operator} {threshold} {unit}"


@dataclass(frozen=True)
class ServiceBudget:
    """A resolved budget on one Cost Explorer service."""

    service: str
    limit_usd: Decimal
    notifications: tuple[Notification, ...]


@dataclass(frozen=True)
class AccountBudget:
    """The resolved budget of one account and its per-service budgets."""

    limit_usd: Decimal
    notifications: tuple[Notification, ...]
    services: tuple[ServiceBudget, ...]


@dataclass(frozen=True)
class AnomalyDetection:
    """The resolved anomaly subscription: threshold, frequency and recipients."""

    threshold_usd: Decimal
    frequency: str
    emails: tuple[str, ...]


def _notification_key(notification: NotificationConfig) -> tuple[Any, ...]:
    # AWS identifies a notification by these four fields, so 80 % and 80 USD differ.
    return (
        notification.notification_type,
        notification.comparison_operator,
        notification.threshold_type,
        notification.threshold,
    )


def _resolve_notifications(
    notifications: Sequence[NotificationConfig],
    origin: str | None,
    emails: Sequence[str],
    problems: list[Problem],
) -> tuple[Notification, ...]:
    """Resolve each notification's subscribers and sort the notifications.

    `origin` is the config path of the list, or None for the built-in defaults.
    """
    resolved = []
    for index, notification in enumerate(notifications):
        subscribers = tuple(
            sorted(notification.emails if notification.emails is not None else emails)
        )
        if not subscribers and not notification.sns_topic and origin is not None:
            problems.append(
                Problem(
                    f"{origin}[{index}]",
                    "notification has no subscriber",
                    show({"emails": [], "snsTopic": False}),
                    "at least one email address or snsTopic: true",
                    "set snsTopic: true, or give emails to the notification or to "
                    "its budget",
                )
            )
        resolved.append(
            Notification(
                notification_type=notification.notification_type,
                comparison_operator=notification.comparison_operator,
                threshold=notification.threshold,
                threshold_type=notification.threshold_type,
                emails=subscribers,
                sns_topic=notification.sns_topic,
            )
        )
    return tuple(
        sorted(
            resolved,
            key=lambda item: (
                item.notification_type,
                item.comparison_operator,
                item.threshold_type,
                item.threshold,
            ),
        )
    )


def _pick(
    layers: Sequence[tuple[BudgetConfig | None, str]], key: str
) -> tuple[Any, str | None]:
    """Return a key's value from the most specific layer that sets it, and its path."""
    for layer, path in reversed(layers):
        if layer is not None and getattr(layer, key) is not None:
            return getattr(layer, key), path
    return None, None


def resolve_account_budget(
    defaults: BudgetConfig | None, override: BudgetConfig | None, path: str
) -> tuple[AccountBudget | None, list[Problem]]:
    """Apply an account's overrides to the organization's default budget.

    `path` is the account's config path (`accounts[3]`). Returns the resolved budget,
    or None when neither level configures one, with the problems found.
    """
    if defaults is None and override is None:
        return None, []
    problems: list[Problem] = []
    layers = [(defaults, "organization.budget"), (override, f"{path}.budget")]

    limit, _ = _pick(layers, "limit_usd")
    if limit is None:
        problems.append(
            Problem(
                f"{path}.budget.limitUsd",
                "missing budget limit",
                "nothing",
                "a monthly limit in USD greater than 0",
                "add limitUsd to the account's budget or to organization.budget",
            )
        )
    emails, _ = _pick(layers, "emails")
    emails = emails or []
    configured, where = _pick(layers, "notifications")
    notifications = configured if configured is not None else DEFAULT_NOTIFICATIONS
    origin = f"{where}.notifications" if where is not None else None

    services = []
    service_configs, services_where = _pick(layers, "services")
    for index, service in enumerate(service_configs or []):
        service_path = f"{services_where}.services[{index}]"
        service_emails = service.emails if service.emails is not None else emails
        if service.notifications is not None:
            service_notifications = service.notifications
            service_origin: str | None = f"{service_path}.notifications"
        else:
            service_notifications, service_origin = notifications, origin
        services.append(
            ServiceBudget(
                service=service.service,
                limit_usd=service.limit_usd,
                notifications=_resolve_notifications(
                    service_notifications, service_origin, service_emails, problems
                ),
            )
        )
    resolved = _resolve_notifications(notifications, origin, emails, problems)
    if problems:
        return None, problems
    return (
        AccountBudget(
            limit_usd=limit,
            notifications=resolved,
            services=tuple(sorted(services, key=lambda item: item.service)),
        ),
        [],
    )


def resolve_anomaly_detection(
    defaults: OrganizationBudgetConfig | None,
) -> tuple[AnomalyDetection | None, list[Problem]]:
    """Return the anomaly subscription's settings, or None when it is disabled.

    Anomaly detection needs `organization.budget` and is on unless
    `anomalyDetection.enabled` is false.
    """
    if defaults is None or not defaults.anomaly_detection.enabled:
        return None, []
    config = defaults.anomaly_detection
    emails = config.emails if config.emails is not None else (defaults.emails or [])
    if not emails:
        return None, [
            Problem(
                "organization.budget.anomalyDetection.emails",
                "no email recipient for cost anomaly alerts",
                show(config.emails) if config.emails is not None else "nothing",
                f"1 to {aws_formats.MAX_ANOMALY_SUBSCRIPTION_EMAILS} email addresses "
                "here or in organization.budget.emails",
                "add emails, or set anomalyDetection.enabled: false",
            )
        ]
    return (
        AnomalyDetection(
            threshold_usd=config.threshold_usd,
            frequency=config.frequency,
            emails=tuple(sorted(emails)),
        ),
        [],
    )


def _check_notifications(
    notifications: Sequence[NotificationConfig] | None, path: str
) -> list[Problem]:
    """Report percentages over the AWS maximum and duplicate notifications."""
    problems = []
    seen: dict[tuple[Any, ...], int] = {}
    maximum = aws_formats.MAX_PERCENTAGE_THRESHOLD
    for index, notification in enumerate(notifications or []):
        threshold = plain_number(notification.threshold)
        if (
            notification.threshold_type == "PERCENTAGE"
            and notification.threshold > maximum
        ):
            problems.append(
                Problem(
                    f"{path}[{index}].threshold",
                    "percentage threshold is over the AWS maximum",
                    threshold,
                    f"a percentage from {CENT} to {maximum:,}",
                    "write a smaller percentage, or set thresholdType: "
                    "ABSOLUTE_VALUE for an amount in USD",
                )
            )
        key = _notification_key(notification)
        if key in seen:
            problems.append(
                Problem(
                    f"{path}[{index}]",
                    "duplicate notification",
                    f"notificationType {notification.notification_type}, "
                    f"comparisonOperator {notification.comparison_operator}, "
                    f"thresholdType {notification.threshold_type}, "
                    f"threshold {threshold}",
                    "notifications that differ in notificationType, "
                    "comparisonOperator, thresholdType or threshold",
                    f"remove it, or merge its recipients into {path}[{seen[key]}]",
                )
            )
        seen.setdefault(key, index)
    return problems


def _check_lists(budget: BudgetConfig, path: str) -> list[Problem]:
    """Check the notifications and services configured at one level."""
    problems = _check_notifications(budget.notifications, f"{path}.notifications")
    seen: dict[str, int] = {}
    for index, service in enumerate(budget.services or []):
        service_path = f"{path}.services[{index}]"
        problems.extend(
            _check_notifications(service.notifications, f"{service_path}.notifications")
        )
        if service.service in seen:
            problems.append(
                Problem(
                    f"{service_path}.service",
                    "duplicate service budget",
                    show(service.service),
                    "one budget per service and account",
                    f"remove it, or change {path}.services[{seen[service.service]}]",
                )
            )
        seen.setdefault(service.service, index)
    return problems


def check(
    defaults: OrganizationBudgetConfig | None,
    overrides: Mapping[int, BudgetConfig | None],
) -> list[Problem]:
    """Check the budgets of every account after the defaults are applied.

    `overrides` maps the index of each account entry that could be read to its
    `budget`, or to None when it has none.
    """
    problems: list[Problem] = []
    if defaults is not None:
        problems.extend(_check_lists(defaults, "organization.budget"))
    for index, override in sorted(overrides.items()):
        if override is not None:
            problems.extend(_check_lists(override, f"accounts[{index}].budget"))
        problems.extend(
            resolve_account_budget(defaults, override, f"accounts[{index}]")[1]
        )
    problems.extend(resolve_anomaly_detection(defaults)[1])
    return problems
