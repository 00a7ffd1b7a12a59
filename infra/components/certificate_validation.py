"""The DNS record through which a certificate authority checks the fallback hostname, in the SaaS zone.

Both origins certify `<fallbackSubdomain>.<zone>` by a record in Cloudflare (ACM's validation CNAME, or
Certificate Manager's DNS authorization). It is never proxied (the CA must see the record itself, not
Cloudflare's edge), and its name and content lose the final dot the CAs hand out, since Cloudflare stores
names without it and would otherwise show a diff after every refresh.
"""

from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare

VALIDATION_TTL = 60  # seconds; the CA reads it once, and a changed record should be seen soon


def without_final_dot(name: str) -> str:
    return name[:-1] if name.endswith(".") else name


def certificate_validation_record(resource_name: str, *, zone_id: pulumi.Input[str], name: pulumi.Output[str],
                                  record_type: pulumi.Input[str], content: pulumi.Output[str], comment: str,
                                  parent: pulumi.Resource) -> cloudflare.DnsRecord:
    return cloudflare.DnsRecord(
        resource_name,
        zone_id=zone_id,
        name=name.apply(without_final_dot),
        type=record_type,
        content=content.apply(without_final_dot),
        proxied=False,
        ttl=VALIDATION_TTL,
        comment=comment,
        opts=pulumi.ResourceOptions(parent=parent),
    )
