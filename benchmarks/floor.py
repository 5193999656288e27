"""The floor of the offline preview: the same registrations with no program logic.

From the engine requests recorded in one run of the real program
(`run_program(..., keep_requests=True)`), `prepare` builds the steps of a plain
Pulumi program, and `program` turns them into a function for `run_mocked`. The
plain program registers every resource again with the same type, name, inputs,
parent, provider and dependencies, and the same component and stack outputs, but
reads no configuration and plans nothing. Two kinds of plain program:

- `TYPED`: each resource through its pulumi-aws class (`aws.sns.Topic(...)` with
  literal arguments), as a hand-written program would register it;
- `GENERIC`: each resource through `pulumi.CustomResource` with its wire inputs,
  which skips the pulumi-aws classes and is the least the engine can do.

Components are `pulumi.ComponentResource`s in both. `differences` compares two
runs request by request, so a test can prove the replay registers the very same
resources.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi import _types
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

from governance import collector

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
TYPED = "typed"
GENERIC = "generic"
COMPONENT = "component"


@dataclass(frozen=True)
class _Secret:
    """A secret input, made a `pulumi.Output.secret` when the program runs."""

    value: Any


@dataclass
class Step:
    """One call of the plain program: a resource to register, or outputs to send."""

    urn: str
    factory: Callable[..., Any] | None = None
    name: str = ""
    # How `factory` is called: COMPONENT (name, options), TYPED (name, options,
    # keyword arguments) or GENERIC (name, inputs, options).
    call: str = ""
    # Keyword arguments of a pulumi-aws class, or the inputs of a generic resource.
    arguments: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    provider: str = ""
    providers: dict[str, str] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    outputs: dict[str, Any] | None = None
    has_secret: bool = False


def urn_of(project: str, stack: str, parent: str, type_token: str, name: str) -> str:
    """Return the URN the mock engine gives a resource, as `MockMonitor.make_urn`."""
    if parent:
        parent_type = parent.split("::")[2].split("$")[-1]
        type_token = f"{parent_type}${type_token}"
    return f"urn:pulumi:{stack}::{project}::{type_token}::{name}"


def _reference(value: str) -> str:
    # A provider reference is "<urn>::<id>", and URNs contain "::" too.
    return value.rsplit("::", 1)[0]


def _mark_secrets(value: Any) -> tuple[Any, bool]:
    """Replace each secret the engine received with a `_Secret`, and flag it."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _Secret(value["value"]), True
        found = False
        marked = {}
        for key, item in value.items():
            marked[key], secret = _mark_secrets(item)
            found = found or secret
        return marked, found
    if isinstance(value, list):
        items = [_mark_secrets(item) for item in value]
        return [item for item, _ in items], any(secret for _, secret in items)
    return value, False


def _unmark_secrets(value: Any) -> Any:
    if isinstance(value, _Secret):
        return pulumi.Output.secret(value.value)
    if isinstance(value, dict):
        return {key: _unmark_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unmark_secrets(item) for item in value]
    return value


def _typed_class(type_token: str) -> tuple[type, type]:
    """Return the pulumi-aws class of a type token and its arguments class."""
    if type_token.startswith(PROVIDER_PREFIX):
        package = importlib.import_module("pulumi_aws")
        return package.Provider, package.ProviderArgs
    package, module_name, _ = type_token.split(":")
    module = rpc.get_resource_module(package, module_name, "")
    if module is None:
        raise ValueError(f"no pulumi-aws module registers {type_token}")
    info = module.mod_info  # type: ignore[attr-defined]
    python_module = importlib.import_module(info["fqn"])
    class_name = info["classes"][type_token]
    return getattr(python_module, class_name), getattr(
        python_module, f"{class_name}Args"
    )


def _keyword_arguments(
    type_token: str, inputs: dict[str, Any], arguments_class: type
) -> dict[str, Any]:
    """Turn wire inputs (camelCase) into the class's keyword arguments.

    Nested mappings keep their camelCase keys: the SDK passes a key it cannot
    translate through unchanged. A provider receives its nested values as JSON
    text, which its class writes again from the decoded values.
    """
    python_names = {
        wire: python
        for python, wire in _types.input_type_py_to_pulumi_names(
            arguments_class
        ).items()
    }
    arguments = {}
    for key, value in inputs.items():
        if type_token.startswith(PROVIDER_PREFIX) and _is_json_text(value):
            value = json.loads(value)
        arguments[python_names.get(key, key)] = value
    return arguments


def _is_json_text(value: Any) -> bool:
    return isinstance(value, str) and (
        value[:1] in ("[", "{") or value in ("true", "false")
    )


def prepare(
    project: str, stack: str, requests: Sequence[Any], kind: str = TYPED
) -> list[Step]:
    """Build the plain program's steps from recorded requests, before timing it."""
    steps = []
    stack_urn = urn_of(project, stack, "", STACK_TYPE, f"{project}-{stack}")
    for request in requests:
        if isinstance(request, resource_pb2.RegisterResourceOutputsRequest):
            outputs, secret = _mark_secrets(
                rpc.deserialize_properties(request.outputs, True)
            )
            steps.append(
                Step(
                    urn="" if request.urn == stack_urn else request.urn,
                    outputs=outputs,
                    has_secret=secret,
                )
            )
            continue
        if request.type == STACK_TYPE:
            continue
        step = Step(
            urn=urn_of(project, stack, request.parent, request.type, request.name),
            name=request.name,
            # A resource without a parent option is the stack's child.
            parent="" if request.parent == stack_urn else request.parent,
            provider=_reference(request.provider) if request.provider else "",
            providers={
                package: _reference(reference)
                for package, reference in request.providers.items()
            },
            depends_on=list(request.dependencies),
        )
        if not request.custom:
            type_token = request.type
            step.call = COMPONENT
            step.factory = lambda name, options, type_token=type_token: (
                pulumi.ComponentResource(type_token, name, None, options)
            )
        else:
            inputs, step.has_secret = _mark_secrets(
                rpc.deserialize_properties(request.object, True)
            )
            if kind == TYPED:
                resource_class, arguments_class = _typed_class(request.type)
                step.factory = resource_class
                step.arguments = _keyword_arguments(
                    request.type, inputs, arguments_class
                )
                step.call = TYPED
            else:
                step.call = GENERIC
                step.factory = _generic_factory(request.type)
                step.arguments = inputs
        steps.append(step)
    return steps


def _generic_factory(type_token: str) -> Callable[..., pulumi.Resource]:
    if type_token.startswith(PROVIDER_PREFIX):
        package = type_token.removeprefix(PROVIDER_PREFIX)
        return lambda name, inputs, options: pulumi.ProviderResource(
            package, name, inputs, options
        )
    return lambda name, inputs, options: pulumi.CustomResource(
        type_token, name, inputs, options
    )


def program(steps: Sequence[Step]) -> Callable[[], None]:
    """Return the plain program that performs the steps in order."""

    def run() -> None:
        # The same collector settings as the program, so only its logic differs.
        collector.defer_full_collections()
        created: dict[str, Any] = {}
        for step in steps:
            if step.outputs is not None:
                outputs = (
                    _unmark_secrets(step.outputs) if step.has_secret else step.outputs
                )
                if not step.urn:
                    for key, value in outputs.items():
                        pulumi.export(key, value)
                else:
                    created[step.urn].register_outputs(outputs)
                continue
            options = pulumi.ResourceOptions(
                parent=created[step.parent] if step.parent else None,
                provider=created[step.provider] if step.provider else None,
                providers={
                    package: created[urn] for package, urn in step.providers.items()
                }
                or None,
                depends_on=[created[urn] for urn in step.depends_on] or None,
            )
            assert step.factory is not None
            if step.call == COMPONENT:
                created[step.urn] = step.factory(step.name, options)
                continue
            arguments = (
                _unmark_secrets(step.arguments) if step.has_secret else step.arguments
            )
            if step.call == TYPED:
                created[step.urn] = step.factory(step.name, opts=options, **arguments)
            else:
                created[step.urn] = step.factory(step.name, arguments, options)

    return run


def registration(request: Any) -> dict[str, Any]:
    """Return what the engine receives in one request, for comparing two runs."""
    if isinstance(request, resource_pb2.RegisterResourceOutputsRequest):
        return {
            "outputs of": request.urn,
            "outputs": json_format.MessageToDict(request.outputs),
        }
    return {
        "type": request.type,
        "name": request.name,
        "parent": request.parent,
        "custom": request.custom,
        "provider": request.provider,
        "providers": dict(request.providers),
        "dependencies": sorted(request.dependencies),
        "inputs": json_format.MessageToDict(request.object),
    }


def differences(
    recorded: Sequence[Any], replayed: Sequence[Any], limit: int = 5
) -> list[str]:
    """List how the replayed registrations differ from the recorded ones."""

    def key(entry: dict[str, Any]) -> tuple[str, str, str]:
        if "outputs of" in entry:
            return ("outputs", entry["outputs of"], "")
        return ("resource", entry["type"], entry["name"])

    left = {key(entry): entry for entry in map(registration, recorded)}
    right = {key(entry): entry for entry in map(registration, replayed)}
    found = []
    for name in sorted(left.keys() | right.keys()):
        if name not in right:
            found.append(f"{name}: not replayed")
        elif name not in left:
            found.append(f"{name}: replayed but never recorded")
        elif left[name] != right[name]:
            changed = sorted(
                entry
                for entry in left[name].keys() | right[name].keys()
                if left[name].get(entry) != right[name].get(entry)
            )
            found.append(f"{name}: {', '.join(changed)} differ")
    return found[:limit] if limit else found
