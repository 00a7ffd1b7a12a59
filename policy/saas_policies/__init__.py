"""The saas-domains policies: the invariants the program keeps, checked on what a preview would deploy.

A package of small modules, one per subject (`hostnames`, `alerts`, `alb`, `gcp`, `origin_auth`,
`edge`), over `names` (the type strings and ranges it checks against) and `props` (reading properties
that may be unknown during a preview). Importable without side effects: the pack itself is built in
`../__main__.py`, because constructing a `PolicyPack` starts its gRPC server, so the tests import this
package and call each policy's `validate` directly.

The pack runs in its own environment from this folder alone (it cannot import `infra`): the copies
it must keep (type strings, Cloudflare's ranges, the explicit SSL fields) are held equal to the
program's (and the Google Cloud types to the locked pulumi-gcp SDK's) by tests/model/test_names.py
and tests/test_policy.py.

The pack needs no Pulumi or stack configuration. Optional policy configuration (a JSON file given
with `--policy-pack-config`) can set the SaaS zone, Cloudflare's address ranges, the accepted ALB
TLS policies and whether origin authentication is required; see each policy's `config_schema`.
"""

from __future__ import annotations

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from saas_policies.alb import (  # noqa: F401 (re-exported)
    alb_ingress_cloudflare_only,
    http_listener_redirects_to_https,
    https_listener_modern_tls,
)
from saas_policies.alerts import (  # noqa: F401 (re-exported)
    alert_webhook_https,
)
from saas_policies.edge import (  # noqa: F401 (re-exported)
    edge_records_proxied,
    no_custom_hostname_in_saas_zone,
    saas_zone,
)
from saas_policies.gcp import (  # noqa: F401 (re-exported)
    cloud_armor_cloudflare_only,
    gcp_http_proxy_redirects_to_https,
    gcp_https_proxy_modern_tls,
)
from saas_policies.hostnames import (  # noqa: F401 (re-exported)
    custom_hostname_explicit_ssl,
    custom_hostname_min_tls,
)
from saas_policies.names import (  # noqa: F401 (re-exported)
    ACCEPTED_MIN_TLS_VERSIONS,
    AOP_CERTIFICATE,
    AOP_SETTINGS,
    ARMOR_ADMITTING_ACTIONS,
    ARMOR_DEFAULT_PRIORITY,
    CLOUDFLARE_IPV4,
    CLOUDFLARE_IPV6,
    CUSTOM_HOSTNAME,
    DNS_RECORDS,
    DYNAMIC_RESOURCE,
    EXPLICIT_SSL_FIELDS,
    EXPLICIT_SSL_SETTINGS,
    FALLBACK_ORIGIN,
    GCP_ACCEPTED_MIN_TLS_VERSIONS,
    GCP_BACKEND_SERVICE,
    GCP_HTTP_PROXY,
    GCP_HTTPS_PROXY,
    GCP_SECURITY_POLICY,
    GCP_SECURITY_POLICY_RULE,
    GCP_SERVER_TLS_POLICY,
    GCP_SSL_POLICY,
    GCP_TRUST_CONFIG,
    GCP_URL_MAP,
    HEADER_PHASE,
    LISTENER_RULES,
    LISTENERS,
    LOAD_BALANCERS,
    MODERN_SSL_POLICY,
    NOTIFICATION_WEBHOOK,
    PACK_NAME,
    RULESET,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    SHARED_TRANSFORM_RULE_INPUTS,
    VPC_INGRESS_RULE,
)
from saas_policies.origin_auth import (  # noqa: F401 (re-exported)
    origin_auth_complete,
    origin_auth_https_listener,
)

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    custom_hostname_min_tls,
    custom_hostname_explicit_ssl,
    edge_records_proxied,
    alb_ingress_cloudflare_only,
    https_listener_modern_tls,
    http_listener_redirects_to_https,
    cloud_armor_cloudflare_only,
    gcp_https_proxy_modern_tls,
    gcp_http_proxy_redirects_to_https,
    origin_auth_https_listener,
    origin_auth_complete,
    no_custom_hostname_in_saas_zone,
    alert_webhook_https,
]
