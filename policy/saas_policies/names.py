"""Resource type strings, Cloudflare's ranges and the fixed values the policies check against.

Copies of the program's (the pack cannot import `infra`): tests/model/test_names.py and
tests/test_policy.py hold them equal to it.
"""

from __future__ import annotations

import re

PACK_NAME = "saas-domains"

CUSTOM_HOSTNAME = "cloudflare:index/customHostname:CustomHostname"
FALLBACK_ORIGIN = "cloudflare:index/customHostnameFallbackOrigin:CustomHostnameFallbackOrigin"
DNS_RECORDS = ("cloudflare:index/dnsRecord:DnsRecord", "cloudflare:index/record:Record")
RULESET = "cloudflare:index/ruleset:Ruleset"
DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"
SHARED_TRANSFORM_RULE_INPUTS = ("zone_id", "expression", "description", "header_name", "header_value")
AOP_SETTINGS = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
AOP_CERTIFICATE = "cloudflare:index/authenticatedOriginPullsCertificate:AuthenticatedOriginPullsCertificate"
NOTIFICATION_WEBHOOK = "cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER_RULES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
# The Google Cloud origin (a global external Application Load Balancer in front of Cloud Run).
GCP_SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy"
GCP_SECURITY_POLICY_RULE = "gcp:compute/securityPolicyRule:SecurityPolicyRule"
GCP_BACKEND_SERVICE = "gcp:compute/backendService:BackendService"
GCP_SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
GCP_HTTPS_PROXY = "gcp:compute/targetHttpsProxy:TargetHttpsProxy"
GCP_HTTP_PROXY = "gcp:compute/targetHttpProxy:TargetHttpProxy"
GCP_URL_MAP = "gcp:compute/uRLMap:URLMap"
GCP_SERVER_TLS_POLICY = "gcp:networksecurity/serverTlsPolicy:ServerTlsPolicy"
GCP_TRUST_CONFIG = "gcp:certificatemanager/trustConfig:TrustConfig"

# https://www.cloudflare.com/ips/ (what cloudflare.get_ip_ranges returns); override with policy config.
CLOUDFLARE_IPV4 = (
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
)
CLOUDFLARE_IPV6 = (
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
)

# ALB policies whose lowest protocol is TLS 1.2: the TLS13-1-2/1-3 families (with their Res, Ext,
# FIPS and PQ variants), TLS-1-2 and FS-1-2. AWS's default, ELBSecurityPolicy-2016-08, allows TLS 1.0.
MODERN_SSL_POLICY = re.compile(r"ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)-[A-Za-z0-9-]+\Z")
ACCEPTED_MIN_TLS_VERSIONS = ("1.2", "1.3")
# The ssl fields the provider overwrites from the API when they are unset (provider issue #5521).
EXPLICIT_SSL_FIELDS = ("type", "method", "wildcard", "bundleMethod")
EXPLICIT_SSL_SETTINGS = ("minTlsVersion", "http2", "tls13", "earlyHints")
HEADER_PHASE = "http_request_late_transform"
# Google Cloud: SSL policy minimums that refuse TLS 1.0 and 1.1 (the API's default, and Google's default
# policy when a proxy names none, is TLS_1_0); Cloud Armor's lowest-priority (default) rule.
GCP_ACCEPTED_MIN_TLS_VERSIONS = ("TLS_1_2", "TLS_1_3")
ARMOR_DEFAULT_PRIORITY = 2147483647
ARMOR_ADMITTING_ACTIONS = ("allow", "throttle", "rate_based_ban")  # the last two admit conforming traffic
_ARMOR_IP_RANGE = re.compile(r"inIpRange\(\s*origin\.ip\s*,\s*['\"]([^'\"]+)['\"]\s*\)")
_ARMOR_HEADER = re.compile(r"request\.headers\[\s*['\"]([^'\"]+)['\"]\s*\]")
