"""The Google Cloud origin: a Cloud Run service behind one global external Application Load Balancer.

Cloudflare connects to the fallback origin with the customer's hostname as Host and SNI. Cloud Run
alone routes by Host and would refuse it, so a load balancer (serverless NEG) sits in front: it
accepts any Host and serves the fallback hostname's certificate from the PRIMARY entry of a
certificate map to every SNI. Cloud Armor on the backend service admits only Cloudflare's ranges
(and, with the `header` origin authentication, only requests carrying the secret header); with
`mtls`, the HTTPS proxy requires a client certificate of our own CA (infra/components/origin_auth.py).

The Cloud Run service itself must have ingress "internal and cloud load balancing", or its `run.app`
URL bypasses all of this (docs/operators.md, "What the Cloud Run origin needs from you").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.components.certificate_validation import certificate_validation_record
from infra.components.origin_auth import HEADER_NAME
from infra.model import names

COMPONENT_TYPE = names.CLOUD_RUN_ORIGIN_TYPE
LOAD_BALANCING_SCHEME = "EXTERNAL_MANAGED"  # the global external Application Load Balancer
SSL_POLICY_PROFILE = "MODERN"  # with TLS 1.2 as the floor: what Cloudflare's origin pulls use
MIN_TLS_VERSION = "TLS_1_2"
CERTIFICATE_MANAGER_URI = "//certificatemanager.googleapis.com/"

# Cloud Armor limits (https://cloud.google.com/armor/quotas, rule-level system limits, and
# https://cloud.google.com/armor/docs/rules-language-reference): a basic match condition
# (`src_ip_ranges`) holds at most 10 IP ranges; an advanced match condition (a CEL expression) at
# most 5 subexpressions. With the secret header, a rule is `header == secret && (4 × inIpRange)`.
MAX_RANGES_PER_RULE = 10
MAX_SUBEXPRESSIONS = 5
RANGES_PER_EXPRESSION = MAX_SUBEXPRESSIONS - 1  # one subexpression is the header check
FIRST_ALLOW_PRIORITY = 1000
DEFAULT_RULE_PRIORITY = 2147483647  # the lowest: evaluated last, required in every policy
DENY_ACTION = "deny(403)"


@dataclass
class CloudRunOriginArgs:
    zone_id: pulumi.Input[str]
    fallback_hostname: str  # the certificate's name; authorized through a DNS record in the zone
    service: str  # the Cloud Run service's name
    region: str  # the Cloud Run service's region
    ingress_ipv4_cidrs: pulumi.Input[Sequence[str]]  # Cloudflare's published ranges, nothing else
    ingress_ipv6_cidrs: pulumi.Input[Sequence[str]]
    # Origin authentication (infra/components/origin_auth.py): at most one of the two is set.
    auth_header_value: pulumi.Input[str] | None = None  # required in HEADER_NAME by Cloud Armor, else 403
    ca_certificate_pem: pulumi.Input[str] | None = None  # client certificates verified against it (mTLS)


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _cel_string(value: str) -> str:
    """A CEL single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def header_condition(secret: str) -> str:
    # Cloud Armor lowercases the keys of request.headers. A request without the header fails the
    # lookup, so the rule does not match and the request falls through to the default deny.
    return f"request.headers[{_cel_string(HEADER_NAME.lower())}] == {_cel_string(secret)}"


def allow_rules(ipv4: Sequence[str], ipv6: Sequence[str],
                secret: str | None) -> list[gcp.compute.SecurityPolicyRuleArgs]:
    """Allow rules for Cloudflare's ranges (each within Cloud Armor's limits), then the default deny."""
    rules = []
    for family, ranges in (("IPv4", ipv4), ("IPv6", ipv6)):
        size = MAX_RANGES_PER_RULE if secret is None else RANGES_PER_EXPRESSION
        chunks = _chunks(sorted(ranges), size)
        for number, chunk in enumerate(chunks, start=1):
            description = f"Cloudflare {family} ranges {number}/{len(chunks)}"
            if secret is None:
                match = gcp.compute.SecurityPolicyRuleMatchArgs(
                    versioned_expr="SRC_IPS_V1",
                    config=gcp.compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=chunk))
            else:
                description += " and the origin auth header"
                in_ranges = " || ".join(f"inIpRange(origin.ip, {_cel_string(cidr)})" for cidr in chunk)
                match = gcp.compute.SecurityPolicyRuleMatchArgs(
                    expr=gcp.compute.SecurityPolicyRuleMatchExprArgs(
                        expression=f"{header_condition(secret)} && ({in_ranges})"))
            rules.append(gcp.compute.SecurityPolicyRuleArgs(
                action="allow", priority=FIRST_ALLOW_PRIORITY + len(rules), description=description, match=match))
    rules.append(gcp.compute.SecurityPolicyRuleArgs(
        action=DENY_ACTION, priority=DEFAULT_RULE_PRIORITY, description="Everything else",
        match=gcp.compute.SecurityPolicyRuleMatchArgs(
            versioned_expr="SRC_IPS_V1", config=gcp.compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]))))
    return rules


class CloudRunOrigin(pulumi.ComponentResource):
    """Addresses, serverless NEG, Cloud Armor, backend service, certificate, (mTLS,) proxies and
    forwarding rules, declared in that order."""

    def __init__(self, name: str, args: CloudRunOriginArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._addresses(name)
        self._backend(name, args)
        self._certificate(name, args)
        self._mutual_tls(name, args)
        self._https(name)
        self._http_redirect(name)

        self.ipv4_address = self.ipv4.address
        self.ipv6_address = self.ipv6.address
        self.backend_service_name = self.backend_service.name
        self.register_outputs({
            "ipv4Address": self.ipv4_address,
            "ipv6Address": self.ipv6_address,
            "backendServiceName": self.backend_service_name,
            "securityPolicy": self.security_policy.self_link,
            "certificateMap": self.certificate_map.id,
        })

    def _addresses(self, name: str) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self.ipv4 = gcp.compute.GlobalAddress(f"{name}-ipv4", ip_version="IPV4", address_type="EXTERNAL", opts=child)
        self.ipv6 = gcp.compute.GlobalAddress(f"{name}-ipv6", ip_version="IPV6", address_type="EXTERNAL", opts=child)

    def _backend(self, name: str, args: CloudRunOriginArgs) -> None:
        """The Cloud Run service as a serverless NEG, behind a backend service that Cloud Armor guards."""
        child = pulumi.ResourceOptions(parent=self)
        self.network_endpoint_group = gcp.compute.RegionNetworkEndpointGroup(
            f"{name}-neg",
            region=args.region,
            network_endpoint_type="SERVERLESS",
            cloud_run=gcp.compute.RegionNetworkEndpointGroupCloudRunArgs(service=args.service),
            opts=child,
        )
        # The rules are built once the ranges (and the secret) are known: one input of one resource.
        # With the secret in it, the whole list stays a Pulumi secret.
        secret = args.auth_header_value
        rules = pulumi.Output.all(args.ingress_ipv4_cidrs, args.ingress_ipv6_cidrs, secret).apply(
            lambda values: allow_rules(values[0], values[1], values[2] if secret is not None else None))
        self.security_policy = gcp.compute.SecurityPolicy(
            f"{name}-armor",
            type="CLOUD_ARMOR",
            description="Cloud Run origin: Cloudflare's published ranges only (managed by saas-domains)",
            rules=rules,
            opts=child,
        )
        self.backend_service = gcp.compute.BackendService(
            f"{name}-backend",
            load_balancing_scheme=LOAD_BALANCING_SCHEME,
            protocol="HTTPS",
            backends=[gcp.compute.BackendServiceBackendArgs(group=self.network_endpoint_group.id)],
            security_policy=self.security_policy.self_link,
            opts=child,
        )

    def _certificate(self, name: str, args: CloudRunOriginArgs) -> None:
        """The fallback hostname's certificate (DNS authorization), served for every SNI."""
        child = pulumi.ResourceOptions(parent=self)
        self.dns_authorization = gcp.certificatemanager.DnsAuthorization(
            f"{name}-cert-dns-auth",
            domain=args.fallback_hostname,
            description="Fallback origin certificate (managed by saas-domains)",
            opts=child,
        )
        record = self.dns_authorization.dns_resource_records[0]
        self.authorization_record = certificate_validation_record(
            f"{name}-cert-validation", zone_id=args.zone_id, name=record.name, record_type=record.type,
            content=record.data, parent=self,
            comment="Certificate Manager DNS authorization of the load balancer certificate (managed by saas-domains)")
        self.certificate = gcp.certificatemanager.Certificate(
            f"{name}-cert",
            description="Fallback origin certificate (managed by saas-domains)",
            managed=gcp.certificatemanager.CertificateManagedArgs(
                domains=[args.fallback_hostname], dns_authorizations=[self.dns_authorization.id]),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.authorization_record]),
        )
        self.certificate_map = gcp.certificatemanager.CertificateMap(
            f"{name}-cert-map", description="Fallback origin certificates (managed by saas-domains)", opts=child)
        # PRIMARY: served when the SNI (a customer's hostname) matches no entry, i.e. always.
        self.certificate_map_entry = gcp.certificatemanager.CertificateMapEntry(
            f"{name}-cert-primary",
            map=self.certificate_map.name,
            certificates=[self.certificate.id],
            matcher="PRIMARY",
            opts=child,
        )

    def _mutual_tls(self, name: str, args: CloudRunOriginArgs) -> None:
        """With `mtls`: the proxy rejects clients without a certificate of our own CA."""
        self.trust_config = self.server_tls_policy = None
        if args.ca_certificate_pem is None:
            return
        child = pulumi.ResourceOptions(parent=self)
        self.trust_config = gcp.certificatemanager.TrustConfig(
            f"{name}-trust-config",
            location="global",
            description="Origin-pull CA whose client certificate Cloudflare presents (managed by saas-domains)",
            trust_stores=[gcp.certificatemanager.TrustConfigTrustStoreArgs(
                trust_anchors=[gcp.certificatemanager.TrustConfigTrustStoreTrustAnchorArgs(
                    pem_certificate=args.ca_certificate_pem)])],
            opts=child,
        )
        self.server_tls_policy = gcp.networksecurity.ServerTlsPolicy(
            f"{name}-mtls",
            location="global",
            allow_open=False,
            mtls_policy=gcp.networksecurity.ServerTlsPolicyMtlsPolicyArgs(
                client_validation_mode="REJECT_INVALID",
                client_validation_trust_config=self.trust_config.id),
            opts=child,
        )

    def _https(self, name: str) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self.ssl_policy = gcp.compute.SSLPolicy(
            f"{name}-tls", min_tls_version=MIN_TLS_VERSION, profile=SSL_POLICY_PROFILE, opts=child)
        self.url_map = gcp.compute.URLMap(f"{name}-https", default_service=self.backend_service.id, opts=child)
        self.https_proxy = gcp.compute.TargetHttpsProxy(
            f"{name}-https",
            url_map=self.url_map.id,
            # The proxy takes the map's full resource name (pulumi-gcp TargetHttpsProxy.certificate_map).
            certificate_map=self.certificate_map.id.apply(lambda map_id: f"{CERTIFICATE_MANAGER_URI}{map_id}"),
            ssl_policy=self.ssl_policy.id,
            server_tls_policy=self.server_tls_policy.id if self.server_tls_policy is not None else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.certificate_map_entry]),
        )
        self.https_rules = self._forwarding_rules(f"{name}-https", self.https_proxy.id, "443")

    def _http_redirect(self, name: str) -> None:
        """Port 80 only redirects to HTTPS: no backend behind it."""
        child = pulumi.ResourceOptions(parent=self)
        self.redirect_url_map = gcp.compute.URLMap(
            f"{name}-http",
            default_url_redirect=gcp.compute.URLMapDefaultUrlRedirectArgs(
                https_redirect=True, redirect_response_code="MOVED_PERMANENTLY_DEFAULT", strip_query=False),
            opts=child,
        )
        self.http_proxy = gcp.compute.TargetHttpProxy(f"{name}-http", url_map=self.redirect_url_map.id, opts=child)
        self.http_rules = self._forwarding_rules(f"{name}-http", self.http_proxy.id, "80")

    def _forwarding_rules(self, prefix: str, target: pulumi.Input[str],
                          port: str) -> list[gcp.compute.GlobalForwardingRule]:
        return [
            gcp.compute.GlobalForwardingRule(
                f"{prefix}-{family}",
                target=target,
                ip_address=address.id,
                ip_protocol="TCP",
                port_range=port,
                load_balancing_scheme=LOAD_BALANCING_SCHEME,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for family, address in (("ipv4", self.ipv4), ("ipv6", self.ipv6))
        ]
