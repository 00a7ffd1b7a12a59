"""Resource type strings and names, in one home: URNs are built from them.

A URN is `stack::project::<parent type>$<type>::<name>`, so renaming a component type, a component
or a child replaces resources; `saas-domains import` and the policy pack name the same resources, so
each reads the names here (the policy pack, in its own environment, keeps a copy that
tests/model/test_names.py holds equal). Changing a value here is a deliberate change of the stack: the
pinned rendering (tests/components/test_rendering_snapshot.py) says exactly what it replaces.
"""

from __future__ import annotations

PROJECT = "saas-domains"

# The program's component types: each is part of its children's URNs.
ORIGIN_AUTH_TYPE = f"{PROJECT}:index:OriginAuth"
ORIGIN_TYPE = f"{PROJECT}:index:Origin"  # the ALB origin
CLOUD_RUN_ORIGIN_TYPE = f"{PROJECT}:index:CloudRunOrigin"
EDGE_TYPE = f"{PROJECT}:index:Edge"
CUSTOMER_HOSTNAMES_TYPE = f"{PROJECT}:index:CustomerHostnames"
CERTIFICATE_ALERTS_TYPE = f"{PROJECT}:index:CertificateAlerts"

# The components the program declares, by name.
ORIGIN_AUTH = "origin-auth"
ORIGIN = "origin"
EDGE = "edge"
CUSTOMERS = "customers"  # its children are named by hostname
CERTIFICATE_ALERTS = "certificate-alerts"  # roles all and core, when alerts are configured
LAST_DEPLOYMENT = "last-deployment"  # the removal guard's reference to the stack itself
CORE_REFERENCE = "core"  # a shard's reference to its core stack (zone id and the core's outputs)

# The Edge's children (component name + "-" + suffix), which `import` adopts.
FALLBACK_RECORD = "fallback"  # the ALB's CNAME, or the load balancer's A record
FALLBACK_IPV6_RECORD = "fallback-ipv6"  # the load balancer's AAAA record (Cloud Run origin)
WILDCARD_RECORD = "customer-wildcard"
FALLBACK_ORIGIN = "fallback-origin"
FALLBACK_ORIGIN_WAITER = "fallback-origin-waiter"
SSL_MODE = "ssl-mode"

# The CertificateAlerts' children (component name + "-" + suffix).
ALERT_WEBHOOK_SECRET = "webhook-secret"  # the shared secret Cloudflare sends in the cf-webhook-auth header
ALERT_WEBHOOK = "webhook"
ALERT_POLICY = "policy"

# Provider resource types that `import`, the policy pack and the tests name.
CUSTOM_HOSTNAME_RESOURCE = "cloudflare:index/customHostname:CustomHostname"
FALLBACK_ORIGIN_RESOURCE = "cloudflare:index/customHostnameFallbackOrigin:CustomHostnameFallbackOrigin"
DNS_RECORD_RESOURCE = "cloudflare:index/dnsRecord:DnsRecord"
NOTIFICATION_POLICY_RESOURCE = "cloudflare:index/notificationPolicy:NotificationPolicy"
NOTIFICATION_WEBHOOK_RESOURCE = "cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks"
# What the engine records for every dynamic resource (the fallback-origin waiter, origin-pulls-off, the shared
# transform rule): they are told apart by their inputs.
DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"

# The notification policy's alert_type for Cloudflare for SaaS custom-hostname certificate events: one of
# the "Available values" of pulumi-cloudflare's NotificationPolicy.alert_type (the conformance test checks
# it against the locked SDK). Cloudflare's docs name the alert "SSL for SaaS Custom Hostnames Alert" without
# printing its type string; docs/operators.md "Alerts" says how this value was identified and how to confirm it.
CUSTOM_HOSTNAME_CERTIFICATE_ALERT = "custom_ssl_certificate_event_type"


def child(component: str, suffix: str) -> str:
    """The name of a component's child: `edge` + `fallback` → `edge-fallback`."""
    return f"{component}-{suffix}"


def bare_stack(stack: str) -> str:
    """The stack part of a possibly fully qualified name (`organization/project/stack`): what URNs carry."""
    return stack.rsplit("/", 1)[-1]


def custom_hostname_urn(stack: str, hostname: str, *, parented: bool = True, project: str = PROJECT) -> str:
    """A custom hostname's URN in `stack` (bare or fully qualified): a child of the `customers` component, as
    the program declares it, or (parented=False) of the root stack, where `pulumi state move` puts it."""
    type_ = f"{CUSTOMER_HOSTNAMES_TYPE}${CUSTOM_HOSTNAME_RESOURCE}" if parented else CUSTOM_HOSTNAME_RESOURCE
    return f"urn:pulumi:{bare_stack(stack)}::{project}::{type_}::{hostname}"


def moved_urn(source_urn: str, dest_stack: str, *, keep_parent_type: bool = False) -> str:
    """The URN `pulumi state move` gives a resource moved into `dest_stack` (a bare stack name), its parent
    not moved along: at the destination's root stack, as Pulumi 3.224.0 and later make it. keep_parent_type=True
    is what 3.127 to 3.223 did (only the stack renamed, the old type chain kept).
    """
    prefix, project, qualified_type, name = source_urn.split("::", 3)
    if not prefix.startswith("urn:pulumi:"):
        raise ValueError(f"not a Pulumi URN: {source_urn!r}")
    type_ = qualified_type if keep_parent_type else qualified_type.rsplit("$", 1)[-1]
    return f"urn:pulumi:{dest_stack}::{project}::{type_}::{name}"
