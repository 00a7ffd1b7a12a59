"""The saas-domains policy pack: `pulumi preview --policy-pack policy` (see README.md in this folder).

Constructing the PolicyPack starts the analyzer's gRPC server and never returns, so this file does
nothing else; the policies live in the package saas_policies/ beside it, where the tests import them.
"""

from pulumi_policy import PolicyPack
from saas_policies import PACK_NAME, POLICIES

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    description="Invariants of the saas-domains stack: TLS 1.2+ custom hostnames with explicit SSL settings, "
                "proxied edge records, Cloudflare-only ALB ingress or Cloud Armor policy, TLS 1.2+ listeners "
                "and proxies, HTTP only redirecting, origin authentication, no custom hostname inside the "
                "SaaS zone, https alert webhooks.",
)
