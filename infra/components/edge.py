"""The Cloudflare edge in the SaaS zone: the records every customer hostname rides on.

Names are given as full FQDNs and proxied records use TTL 1 (automatic): Cloudflare returns both
that way, so anything else shows a diff after every refresh.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from infra.components.fallback_origin_waiter import FallbackOriginWaiter
from infra.model import names

COMPONENT_TYPE = names.EDGE_TYPE
AUTOMATIC_TTL = 1
# Full, not Full (strict): the ALB answers every customer's SNI with its one certificate, for the
# fallback hostname, which strict validation of the customer's hostname would reject.
ZONE_SSL_MODE = "full"


def lookup_zone_id(zone: str) -> pulumi.Output[str]:
    """One get_zone call, made only when the stack does not pin saas-domains:zoneId."""
    return cloudflare.get_zone_output(filter=cloudflare.GetZoneFilterArgs(name=zone, match="all")).id


@dataclass
class EdgeArgs:
    zone_id: pulumi.Input[str]
    fallback_hostname: str
    cname_domain: str  # customers point at <customer id>.<cname_domain>
    manage_zone_ssl_mode: bool
    # The origin the fallback record points at: a DNS name (the ALB or an external origin: a CNAME) or
    # addresses (the Cloud Run load balancer's global IPv4 and IPv6: an A and an AAAA record). One of the two.
    origin_dns_name: pulumi.Input[str] | None = None
    origin_ipv4: pulumi.Input[str] | None = None
    origin_ipv6: pulumi.Input[str] | None = None
    origin_description: str = "the ALB"  # in the CNAME's comment: the ALB, or an external origin


class Edge(pulumi.ComponentResource):
    """Fallback record, customer wildcard record, the custom-hostname fallback origin (behind its
    waiter) and SSL mode."""

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Delete before replace: a zone cannot hold two CNAMEs of one name, and a new name is a
        # replacement too (not a rename in place under the fallback origin). Either way the engine
        # first deletes what depends on the record through its inputs: the fallback origin, then
        # the waiter, which returns once Cloudflare has finished deleting it (error 1039 otherwise).
        record_opts = pulumi.ResourceOptions(delete_before_replace=True, replace_on_changes=["name"])
        self.fallback_ipv6_record = None
        if args.origin_dns_name is not None:
            self.fallback_record = self._proxied(
                names.child(name, names.FALLBACK_RECORD), args.zone_id, args.fallback_hostname, "CNAME",
                args.origin_dns_name, f"Custom-hostname fallback origin: {args.origin_description} (managed by "
                "saas-domains)", record_opts)
        else:
            comment = "Custom-hostname fallback origin: the load balancer (managed by saas-domains)"
            self.fallback_record = self._proxied(
                names.child(name, names.FALLBACK_RECORD), args.zone_id, args.fallback_hostname, "A",
                args.origin_ipv4, comment, record_opts)
            self.fallback_ipv6_record = self._proxied(
                names.child(name, names.FALLBACK_IPV6_RECORD), args.zone_id, args.fallback_hostname, "AAAA",
                args.origin_ipv6, comment, record_opts)
        self.wildcard_record = self._proxied(
            names.child(name, names.WILDCARD_RECORD), args.zone_id, f"*.{args.cname_domain}", "CNAME",
            args.fallback_hostname, "CNAME target of every customer hostname (managed by saas-domains)")
        # Record -> waiter -> fallback origin, each taking its zone id from the one before: input
        # (property) dependencies, which order creation, order `pulumi destroy` in reverse, and make
        # a delete-before-replace of the record replace the waiter and the fallback origin first.
        # With an AAAA record too, the waiter holds that one back as well (Cloudflare refuses both).
        waiter_opts = child if self.fallback_ipv6_record is None else pulumi.ResourceOptions(
            parent=self, depends_on=[self.fallback_ipv6_record])
        self.fallback_origin_waiter = FallbackOriginWaiter(
            names.child(name, names.FALLBACK_ORIGIN_WAITER), zone_id=self.fallback_record.zone_id,
            hostname=args.fallback_hostname, opts=waiter_opts)
        # A zone has one fallback origin: creating a replacement first and then deleting the old one
        # would delete the new one, so it is deleted before it is replaced.
        self.fallback_origin = cloudflare.CustomHostnameFallbackOrigin(
            names.child(name, names.FALLBACK_ORIGIN),
            zone_id=self.fallback_origin_waiter.zone_id,
            origin=args.fallback_hostname,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.zone_ssl_mode = None
        if args.manage_zone_ssl_mode:
            self.zone_ssl_mode = cloudflare.ZoneSetting(
                names.child(name, names.SSL_MODE),
                zone_id=args.zone_id,
                setting_id="ssl",
                value=ZONE_SSL_MODE,
                opts=child,
            )

        self.fallback_origin_name = self.fallback_origin.origin
        self.register_outputs({
            "fallbackOrigin": self.fallback_origin_name,
            "fallbackRecordId": self.fallback_record.id,
            "wildcardRecordId": self.wildcard_record.id,
        })

    def _proxied(self, resource_name: str, zone_id: pulumi.Input[str], name: str, record_type: str,
                 content: pulumi.Input[str], comment: str,
                 opts: pulumi.ResourceOptions | None = None) -> cloudflare.DnsRecord:
        return cloudflare.DnsRecord(
            resource_name, zone_id=zone_id, name=name, type=record_type, content=content, proxied=True,
            ttl=AUTOMATIC_TTL, comment=comment,
            opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), opts))
