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

    `pulumi state move` (pkg/cmd/pulumi/state/state_move.go) re-parents a moved resource whose parent is
    not moved along to the destination's root stack, and since Pulumi 3.224.0 rebuilds its URN from that
    parent: a hostname `saas-domains reshard` moves out of another stack's `customers` component arrives as
    a child of the root stack (names.custom_hostname_urn(parented=False), what tests/engine/test_real_engine.py
    sees the real CLI do), which this alias makes the engine accept as the declared hostname: renamed at the next
    `up`, never replaced. (3.127 to 3.223 kept the old type chain, which is the declared URN itself;
    infra/model/names.py moved_urn models both.) Shard role only: it changes no URN, but the `all`
    rendering stays byte for byte what it was.
    """
    return [pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]


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
