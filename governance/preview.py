"""Offline preview: run the real program under the Pulumi SDK's mock engine.

`run_program` executes the project's `__main__.py` with a stack's configuration,
through the same SDK classes `pulumi up` uses, and records every resource the
program registers (type, logical name, inputs as the engine receives them, provider,
parent) and the stack outputs. No cloud, CLI or provider plugin is involved, so what
the provider itself would reject is not checked here.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import io
import json
import logging
import runpy
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import wait_for_rpcs

from governance import aws_formats
from governance.problems import EXIT_INVALID, SECRET_MASK
from governance.stack_config import SECRET_PLACEHOLDER, StackConfig, runtime_values

log = logging.getLogger(__name__)

PROVIDER_TYPE = "pulumi:providers:aws"
# Region of a resource whose provider the preview cannot determine.
DEFAULT_MOCK_REGION = "us-east-1"
_COST_EXPLORER_ARN_KINDS = {
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": "anomalymonitor",
    "aws:costexplorer/anomalySubscription:AnomalySubscription": "anomalysubscription",
}
UNKNOWN_MASK = "[unknown]"


@dataclass
class RecordedResource:
    """One resource the program registered, as the engine received it."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: str | None
    provider: str | None
    providers: dict[str, str]
    account: str | None = None
    provider_name: str | None = None
    region: str | None = None


@dataclass
class PreviewResult:
    """The resources one run of the program registered, and its exports."""

    project: str
    stack: str
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    exit_code: int = 0
    stderr: str = ""
    # The engine requests themselves, in order, when the run was asked to keep them.
    requests: list[Any] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        """Return the preview as the documented JSON object."""
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [
                {
                    "type": resource.type,
                    "name": resource.name,
                    "account": resource.account,
                    "provider": resource.provider_name,
                    "inputs": resource.inputs,
                }
                for resource in self.resources
            ],
            "outputs": self.outputs,
        }


def _plain(value: Any) -> Any:
    """Convert an engine property value to plain JSON, masking secrets and unknowns."""
    if isinstance(value, dict):
        signature = value.get(rpc._special_sig_key)
        if signature == rpc._special_secret_sig:
            return SECRET_MASK
        if signature == rpc._special_resource_sig:
            return {"urn": value.get("urn")}
        if signature == rpc._special_asset_sig:
            return {
                "asset": {
                    key: _plain(item)
                    for key, item in value.items()
                    if key != rpc._special_sig_key
                }
            }
        if signature == rpc._special_archive_sig:
            return {
                "archive": {
                    key: _plain(item)
                    for key, item in value.items()
                    if key != rpc._special_sig_key
                }
            }
        return {key: _plain(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == rpc.UNKNOWN:
        return UNKNOWN_MASK
    if isinstance(value, str) and SECRET_PLACEHOLDER in value:
        return value.replace(SECRET_PLACEHOLDER, SECRET_MASK)
    return value


def _decode_provider_input(value: Any) -> Any:
    """Decode a provider input, which the engine receives as JSON text."""
    if value in ("true", "false") or (isinstance(value, str) and value[:1] in "[{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class _RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, also recording each resource and the account it acts in.

    A resource's account is that of its provider: the explicit one, the one its
    component was given, or its parent's.
    """

    def __init__(self, mock: _Mocks, keep_requests: bool = False) -> None:
        super().__init__(mock)
        self.recorded: list[RecordedResource] = []
        self._by_urn: dict[str, RecordedResource] = {}
        self.requests: list[Any] | None = [] if keep_requests else None

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        if self.requests is not None:
            self.requests.append(request)
        return super().RegisterResourceOutputs(request)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        if self.requests is not None:
            self.requests.append(request)
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        inputs = _plain(json_format.MessageToDict(request.object))
        if request.type.startswith("pulumi:providers:"):
            inputs = {
                key: _decode_provider_input(value) for key, value in inputs.items()
            }
        resource = RecordedResource(
            urn=self.make_urn(request.parent, request.type, request.name),
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            inputs=inputs,
            parent=request.parent or None,
            provider=request.provider or None,
            providers=dict(request.providers),
        )
        self._attribute(resource)
        self.recorded.append(resource)
        self._by_urn[resource.urn] = resource
        self.mocks.accounts[(resource.type, resource.name)] = resource.account
        self.mocks.regions[(resource.type, resource.name)] = resource.region
        return super().RegisterResource(request)

    def _attribute(self, resource: RecordedResource) -> None:
        if resource.type == PROVIDER_TYPE:
            allowed = resource.inputs.get("allowedAccountIds") or []
            resource.account = allowed[0] if len(allowed) == 1 else None
            resource.provider_name = resource.name
            resource.region = resource.inputs.get("region")
            return
        reference = resource.provider or resource.providers.get("aws")
        if reference:
            # A provider reference is "<urn>::<id>", and URNs contain "::" too.
            provider = self._by_urn.get(reference.rsplit("::", 1)[0])
            if provider is not None:
                resource.account = provider.account
                resource.provider_name = provider.name
                resource.region = provider.region
            return
        parent = self._by_urn.get(resource.parent or "")
        if parent is not None:
            resource.account = parent.account
            resource.provider_name = parent.provider_name
            resource.region = parent.region


class _Mocks(pulumi.runtime.Mocks):
    """Mocks that return each resource's inputs as its state, plus computed outputs."""

    def __init__(self) -> None:
        self.accounts: dict[tuple[str, str], str | None] = {}
        self.regions: dict[tuple[str, str], str | None] = {}

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        account = self.accounts.get((args.typ, args.name)) or "000000000000"
        region = self.regions.get((args.typ, args.name)) or DEFAULT_MOCK_REGION
        resource_id = computed_id(args.typ, args.name)
        state.update(
            computed_outputs(
                args.typ,
                args.name,
                args.inputs,
                account,
                region=region,
                resource_id=resource_id,
            )
        )
        return resource_id, state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise NotImplementedError(
            f"the offline preview cannot return a result for the invoke {args.token}; "
            "the program must not call data sources"
        )


# Id prefixes EC2 gives the resources of these types, and the resource type in
# their ARNs. Example: vpce-0123456789abcdef0, arn:aws:ec2:...:vpc-endpoint/vpce-...
EC2_IDS: dict[str, tuple[str, str | None]] = {
    "aws:ec2/vpc:Vpc": ("vpc", "vpc"),
    "aws:ec2/subnet:Subnet": ("subnet", "subnet"),
    "aws:ec2/routeTable:RouteTable": ("rtb", "route-table"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("rtbassoc", None),
    "aws:ec2/securityGroup:SecurityGroup": ("sg", "security-group"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "sgr",
        "security-group-rule",
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpce", "vpc-endpoint"),
}


def computed_id(type_token: str, name: str) -> str:
    """Return a resource's id: EC2's form for EC2 types, else "<name>-id".

    EC2 ids are the prefix and 17 hexadecimal digits taken from a hash of the type
    and name, so every run gives the same id.
    """
    if type_token not in EC2_IDS:
        return f"{name}-id"
    prefix = EC2_IDS[type_token][0]
    digest = hashlib.sha256(f"{type_token}/{name}".encode()).hexdigest()
    return f"{prefix}-{digest[:17]}"


def computed_outputs(
    type_token: str,
    name: str,
    inputs: dict[str, Any],
    account: str,
    region: str = DEFAULT_MOCK_REGION,
    resource_id: str = "",
) -> dict[str, Any]:
    """Return the outputs AWS would compute for a resource, faked but well-formed."""
    partition = aws_formats.partition_of(region)
    if type_token in EC2_IDS:
        arn_type = EC2_IDS[type_token][1]
        if arn_type is None:
            return {}
        outputs: dict[str, Any] = {
            "arn": f"arn:{partition}:ec2:{region}:{account}:{arn_type}/{resource_id}"
        }
        if type_token.startswith("aws:vpc/securityGroup"):
            outputs["securityGroupRuleId"] = resource_id
        else:
            outputs["ownerId"] = account
        if type_token == "aws:ec2/vpcEndpoint:VpcEndpoint":
            outputs["state"] = "available"
        return outputs
    if type_token == "aws:sns/topic:Topic":
        return {
            "arn": aws_formats.sns_topic_arn(
                partition, region, account, inputs.get("name", name)
            )
        }
    if type_token == "aws:budgets/budget:Budget":
        return {
            "arn": aws_formats.budget_arn(partition, account, inputs.get("name", name))
        }
    if type_token in _COST_EXPLORER_ARN_KINDS:
        # Cost Explorer ARNs end in a random UUID; a name-derived one keeps the
        # preview deterministic.
        kind = _COST_EXPLORER_ARN_KINDS[type_token]
        unique = uuid.uuid5(uuid.NAMESPACE_URL, f"{account}/{kind}/{name}")
        return {"arn": f"arn:{partition}:ce::{account}:{kind}/{unique}"}
    if type_token == "aws:iam/role:Role":
        role_name = inputs.get("name", name)
        path = inputs.get("path", "/")
        return {
            "arn": f"arn:aws:iam::{account}:role{path}{role_name}",
            "uniqueId": "AROA" + name.upper().replace("-", "")[:17],
        }
    if type_token == "aws:lambda/layerVersion:LayerVersion":
        # Every layer is new to the preview, so each is its layer's version 1.
        partition = aws_formats.partition_of(region)
        layer_name = inputs["layerName"]
        return {
            "arn": aws_formats.layer_version_arn(
                partition, region, account, layer_name, 1
            ),
            "layerArn": aws_formats.layer_arn(partition, region, account, layer_name),
            "version": "1",
            "codeSha256": inputs.get("sourceCodeHash", ""),
            "createdDate": "1970-01-01T00:00:00.000+0000",
        }
    return {}


@contextlib.contextmanager
def _fresh_runtime(
    project: str, stack: str, monitor: _RecordingMonitor
) -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    previous_loop = None
    with contextlib.suppress(RuntimeError):
        previous_loop = asyncio.get_event_loop_policy().get_event_loop()
    asyncio.set_event_loop(loop)
    settings.reset_options(project=project, stack=stack, preview=True)
    try:
        mocks.set_mocks(
            monitor.mocks, project=project, stack=stack, preview=True, monitor=monitor
        )
        yield loop
    finally:
        settings.reset_options()
        loop.close()
        asyncio.set_event_loop(previous_loop)


async def _resolve(value: Any) -> Any:
    """Resolve a stack output to plain JSON; a secret becomes the mask."""
    if isinstance(value, pulumi.Output):
        if await value.is_secret():
            return SECRET_MASK
        if not await value.is_known():
            return UNKNOWN_MASK
        return await _resolve(await value.future())
    if isinstance(value, dict):
        return {key: await _resolve(item) for key, item in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [await _resolve(item) for item in value]
    if asyncio.isfuture(value) or asyncio.iscoroutine(value):
        return await _resolve(await value)
    return _plain(value)


def run_program(
    project_dir: Path, config: StackConfig, keep_requests: bool = False
) -> PreviewResult:
    """Run `project_dir/__main__.py` under the mock engine with a stack's configuration.

    The program's own exit status is kept: 2 when it rejected the configuration, in
    which case it registered nothing and the result lists no resource. With
    `keep_requests`, the result also contains the engine requests the program sent.
    """
    values, secret_keys = runtime_values(config)
    sys.path.insert(0, str(project_dir))
    try:
        return run_mocked(
            config.project,
            config.stack,
            lambda: runpy.run_path(
                str(project_dir / "__main__.py"), run_name="__main__"
            ),
            config=values,
            secret_keys=secret_keys,
            keep_requests=keep_requests,
        )
    finally:
        sys.path.remove(str(project_dir))


def run_mocked(
    project: str,
    stack: str,
    program: Callable[[], object],
    *,
    config: Mapping[str, str] | None = None,
    secret_keys: Sequence[str] = (),
    keep_requests: bool = False,
) -> PreviewResult:
    """Run a Pulumi program, given as a function, under the mock engine.

    `config` maps each namespaced key to its text, as the Pulumi CLI passes it. A
    `SystemExit` raised by the program ends the run with its status. The garbage
    collector's thresholds, which the program may change, are restored after it.
    """
    thresholds = gc.get_threshold()
    try:
        return _run_mocked(
            project, stack, program, config or {}, secret_keys, keep_requests
        )
    finally:
        gc.set_threshold(*thresholds)


def _run_mocked(
    project: str,
    stack: str,
    program: Callable[[], object],
    config: Mapping[str, str],
    secret_keys: Sequence[str],
    keep_requests: bool,
) -> PreviewResult:
    result = PreviewResult(project=project, stack=stack)
    monitor = _RecordingMonitor(_Mocks(), keep_requests=keep_requests)
    stderr = io.StringIO()
    with _fresh_runtime(project, stack, monitor) as loop:
        set_all_config(dict(config), list(secret_keys))
        try:
            with contextlib.redirect_stderr(stderr):
                program()
            loop.run_until_complete(wait_for_rpcs())
            root = settings.get_root_resource()
            outputs = getattr(root, "outputs", {})
            result.outputs = loop.run_until_complete(_resolve(dict(outputs)))
        except SystemExit as exit_request:
            result.exit_code = (
                exit_request.code
                if isinstance(exit_request.code, int)
                else EXIT_INVALID
            )
            # Let the registration of the root stack finish before the loop closes.
            loop.run_until_complete(wait_for_rpcs())
    result.stderr = stderr.getvalue()
    result.resources = sorted(
        monitor.recorded,
        key=lambda resource: (resource.account or "", resource.type, resource.name),
    )
    result.requests = monitor.requests or []
    return result
