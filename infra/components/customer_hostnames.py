"""One Cloudflare custom hostname per hostname in the customers file.

Each resource is named by its hostname and parented to a single component, so its URN depends on
nothing but the hostname: reordering the file, moving a hostname to another customer or renaming a
customer changes outputs, never the resource (and never its verification tokens).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare

from infra.model import names
from infra.model.customers import CustomerHostname, HostnameSsl
from infra.model.customers.ssl_fields import NAMES, SSL_FIELDS

COMPONENT_TYPE = names.CUSTOMER_HOSTNAMES_TYPE


def ssl_args(ssl: HostnameSsl) -> cloudflare.CustomHostnameSslArgs:
    """Every field the API echoes back is set, because unset ones drift (provider issue #5521).

    One argument per row of the SSL-field table, under `ssl` or its nested `settings` as the row says.
    """
    top: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    for row in SSL_FIELDS:
        value = getattr(ssl, row.key)
        if row.kind == NAMES and value is not None:
            value = list(value)
        (settings if row.in_settings else top)[row.python_arg] = value
    return cloudflare.CustomHostnameSslArgs(**top, settings=cloudflare.CustomHostnameSslSettingsArgs(**settings))


def shard_aliases() -> list[pulumi.Alias]:
    """The aliases of a shard's custom hostnames: the same name and type with no parent (the stack's root).

    `pulumi state move` (pkg/cmd/pulumi/state/state_move.go, Pulumi 3.127 and later) sets the `parent`
    of a moved resource whose parent is not moved along to the destination's root stack, but rewrites
    only the stack and project of its URN (urn_after_state_move): a hostname moved from the `customers`
    component of one stack into another arrives with exactly the URN the destination declares
    (declared_urn), and the engine's next `up` records the new parent (a "same" step). This alias covers
    the other shape a moved or imported hostname can have, a child of the root stack
    (urn_at_stack_root), so it is renamed, never replaced. Shard role only: it changes no URN, but the
    `all` rendering stays byte for byte what it was.
    """
    return [pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]


def declared_urn(stack: str, hostname: str, project: str = names.PROJECT) -> str:
    """The URN the program declares for a custom hostname: a child of the `customers` component."""
    return f"urn:pulumi:{stack}::{project}::{COMPONENT_TYPE}${names.CUSTOM_HOSTNAME_RESOURCE}::{hostname}"


def urn_at_stack_root(stack: str, hostname: str, project: str = names.PROJECT) -> str:
    """A custom hostname's URN as a child of the root stack: what shard_aliases() makes the engine accept."""
    return f"urn:pulumi:{stack}::{project}::{names.CUSTOM_HOSTNAME_RESOURCE}::{hostname}"


def urn_after_state_move(urn: str, dest_stack: str, dest_project: str = names.PROJECT) -> str:
    """What `pulumi state move` makes of a URN: the destination's stack and project, type chain and name kept.

    The move's renameStackAndProject (URN.RenameStack, URN.RenameProject); `dest_stack` is the stack's
    name without organization and project, as URNs carry it.
    """
    prefix, stack_and_rest = urn.split("urn:pulumi:", 1)
    if prefix:
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    _stack, _project, qualified_type, name = stack_and_rest.split("::", 3)
    return f"urn:pulumi:{dest_stack}::{dest_project}::{qualified_type}::{name}"


@dataclass
class CustomerHostnamesArgs:
    zone_id: pulumi.Input[str]
    hostnames: Sequence[CustomerHostname]
    cname_domain: str  # a hostname of customer X points at X.<cname_domain>
    aliases: Sequence[pulumi.Alias] = ()  # of each custom hostname: shard_aliases() in a shard, none otherwise


class CustomerHostnames(pulumi.ComponentResource):
    """The customers' hostnames, and for each what its customer must put in DNS."""

    def __init__(self, name: str, args: CustomerHostnamesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, aliases=list(args.aliases) or None)

        self.resources: dict[str, cloudflare.CustomHostname] = {}
        self.dns_instructions: dict[str, pulumi.Output[dict]] = {}
        for entry in args.hostnames:
            metadata = entry.metadata_dict
            resource = cloudflare.CustomHostname(
                entry.hostname,
                zone_id=args.zone_id,
                hostname=entry.hostname,
                ssl=ssl_args(entry.ssl),
                custom_metadata=metadata or None,
                custom_origin_server=entry.origin,
                opts=child,
            )
            self.resources[entry.hostname] = resource
            self.dns_instructions[entry.hostname] = _dns_instructions(
                resource, entry, f"{entry.customer_id}.{args.cname_domain}")

        self.register_outputs({"count": len(self.resources)})


def _dns_instructions(resource: cloudflare.CustomHostname, entry: CustomerHostname,
                      cname_target: str) -> pulumi.Output[dict]:
    """What support sends the customer; the TXT record is known only once Cloudflare made the hostname."""

    def render(values: list) -> dict:
        ownership, status = values
        return {
            "customer": entry.customer_id,
            "cname": {"name": entry.hostname, "target": cname_target},
            "ownershipTxt": {
                "name": ownership.get("name") if ownership else None,
                "value": ownership.get("value") if ownership else None,
            },
            "status": status,
        }

    return pulumi.Output.all(resource.ownership_verification, resource.status).apply(render)
