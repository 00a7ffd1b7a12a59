"""The cloud `saas-domains plan` renders against: what AWS, Google Cloud and Cloudflare would answer.

infra/offline.py runs the real program under Pulumi's mock engine; this is the other side of that
engine, the answers to each registration and lookup: stable ids, the outputs each provider computes
(an ALB's DNS name, a custom hostname's ownership TXT record, Cloudflare's IP ranges), placeholders
where only the real cloud knows the value. Tests vary it through tests/fakes/cloud.py; nothing here
is a knob for them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import rpc

from infra.model.names import NOTIFICATION_POLICY_RESOURCE, NOTIFICATION_WEBHOOK_RESOURCE, PROJECT

PENDING_TXT_VALUE = "(assigned by Cloudflare when the hostname is created)"

# Cloudflare's published ranges (https://www.cloudflare.com/ips/), what get_ip_ranges returns.
CLOUDFLARE_IPV4 = (
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
)
CLOUDFLARE_IPV6 = (
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
)


# The GCP resource types the Cloud Run origin declares, and the collection in their ids.
GCP_COLLECTIONS = {
    "gcp:compute/globalAddress:GlobalAddress": "addresses",
    "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup": "networkEndpointGroups",
    "gcp:compute/securityPolicy:SecurityPolicy": "securityPolicies",
    "gcp:compute/backendService:BackendService": "backendServices",
    "gcp:compute/uRLMap:URLMap": "urlMaps",
    "gcp:compute/sSLPolicy:SSLPolicy": "sslPolicies",
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy": "targetHttpsProxies",
    "gcp:compute/targetHttpProxy:TargetHttpProxy": "targetHttpProxies",
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": "forwardingRules",
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization": "dnsAuthorizations",
    "gcp:certificatemanager/certificate:Certificate": "certificates",
    "gcp:certificatemanager/certificateMap:CertificateMap": "certificateMaps",
    "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry": "certificateMapEntries",
    "gcp:certificatemanager/trustConfig:TrustConfig": "trustConfigs",
    "gcp:networksecurity/serverTlsPolicy:ServerTlsPolicy": "serverTlsPolicies",
}


@dataclass
class Invoke:
    token: str
    args: dict[str, Any]


def _pem(kind: str, rid: str) -> str:
    return f"-----BEGIN {kind}-----\noffline placeholder {rid}\n-----END {kind}-----\n"


def unwrap_secrets(value: Any, path: str, found: list[str]) -> Any:
    """Plain values for assertions, with the paths of the ones Pulumi would store as secrets."""
    if rpc.is_rpc_secret(value):
        found.append(path)
        return unwrap_secrets(rpc.unwrap_rpc_secret(value), path, found)
    if isinstance(value, dict):
        return {k: unwrap_secrets(v, f"{path}.{k}" if path else k, found) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def _stable_id(*parts: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)).hex


class OfflineCloud(pulumi.runtime.Mocks):
    """Answers like AWS, Google Cloud and Cloudflare would after a create, with stable ids and placeholders."""

    zone_id = "0123456789abcdef0123456789abcdef"
    vpc = {"id": "vpc-0a1b2c3d", "cidrBlock": "172.31.0.0/16"}
    subnets = ["subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333"]
    gcp_project = "offline-project"  # when the stack sets no gcp:project

    def __init__(self) -> None:
        self.invokes: list[Invoke] = []
        self.created: list[str] = []  # resource types in registration order, components included

    def deployed_outputs(self) -> dict[str, Any]:
        """The stack's own outputs at its last deployment, as a reference to itself reads them: none offline."""
        return {}

    def outputs_of_core(self) -> dict[str, Any]:
        """The core stack's outputs as a shard reads them: what a deployed core exports."""
        config = pulumi.Config(PROJECT)
        zone = config.get("zone") or "example.com"
        return {
            "zoneId": self.zone_id,
            "zone": zone,
            "cnameDomain": f"{config.get('cnameSubdomain') or 'cname'}.{zone}",
            "fallbackOrigin": f"{config.get('fallbackSubdomain') or 'proxy-fallback'}.{zone}",
        }

    def ownership_txt_value(self, hostname: str) -> str:
        return PENDING_TXT_VALUE

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.created.append(args.typ)
        args.inputs = unwrap_secrets(args.inputs, "", [])
        if args.typ == "pulumi:pulumi:StackReference":
            outputs = (self.outputs_of_core() if args.inputs["name"] == pulumi.Config(PROJECT).get("coreStack")
                       else self.deployed_outputs())
            return args.inputs["name"], {**args.inputs, "outputs": outputs, "secretOutputNames": []}
        state = dict(args.inputs)
        rid = _stable_id(args.typ, args.name)
        computed = {
            "aws:ec2/securityGroup:SecurityGroup": lambda: {"arn": f"arn:aws:ec2:::security-group/sg-{rid[:17]}"},
            "aws:lb/loadBalancer:LoadBalancer": lambda: {
                "arn": f"arn:aws:elasticloadbalancing:::loadbalancer/app/{args.name}/{rid[:16]}",
                "dnsName": f"{args.name}-{rid[:10]}.elb.amazonaws.com"},
            "aws:lb/targetGroup:TargetGroup": lambda: {
                "arn": f"arn:aws:elasticloadbalancing:::targetgroup/{args.name}/{rid[:16]}"},
            "aws:lb/listener:Listener": lambda: {"arn": f"arn:aws:elasticloadbalancing:::listener/{rid[:16]}"},
            "aws:acm/certificate:Certificate": lambda: {
                "arn": f"arn:aws:acm:::certificate/{rid}",
                "domainValidationOptions": [{
                    "domainName": args.inputs["domainName"],
                    "resourceRecordName": f"_{rid[:32]}.{args.inputs['domainName']}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{rid[::-1][:32]}.acm-validations.aws.",
                }]},
            "aws:acm/certificateValidation:CertificateValidation": lambda: {
                "certificateArn": args.inputs["certificateArn"]},
            "cloudflare:index/customHostname:CustomHostname": lambda: {
                "status": "pending",
                "ownershipVerification": {
                    "name": f"_cf-custom-hostname.{args.inputs['hostname']}",
                    "type": "txt",
                    "value": self.ownership_txt_value(args.inputs["hostname"]),
                }},
            "cloudflare:index/customHostnameFallbackOrigin:CustomHostnameFallbackOrigin": lambda: {
                "status": "initializing"},
            "random:index/randomPassword:RandomPassword": lambda: {
                "result": f"offline-placeholder-{rid}"[: int(args.inputs.get("length", 16))]},
            "tls:index/privateKey:PrivateKey": lambda: {"privateKeyPem": _pem("PRIVATE KEY", rid)},
            "tls:index/selfSignedCert:SelfSignedCert": lambda: {"certPem": _pem("CERTIFICATE", rid)},
            "tls:index/certRequest:CertRequest": lambda: {"certRequestPem": _pem("CERTIFICATE REQUEST", rid)},
            "tls:index/locallySignedCert:LocallySignedCert": lambda: {"certPem": _pem("CERTIFICATE", rid)},
            "aws:s3/bucket:Bucket": lambda: {"bucket": f"{args.name}-{rid[:8]}", "arn": f"arn:aws:s3:::{args.name}"},
            "aws:lb/trustStore:TrustStore": lambda: {
                "arn": f"arn:aws:elasticloadbalancing:::truststore/{args.name}/{rid[:16]}"},
            NOTIFICATION_WEBHOOK_RESOURCE: lambda: {"type": "generic"},  # what Cloudflare infers from the URL
        }.get(args.typ)
        if computed:
            state.update(computed())
        if args.typ in (NOTIFICATION_WEBHOOK_RESOURCE, NOTIFICATION_POLICY_RESOURCE):
            return str(uuid.UUID(rid)), state  # Cloudflare's alerting ids are UUIDs
        if args.typ in GCP_COLLECTIONS:
            return self._gcp_resource(args, rid, state)
        return (rid if args.custom else f"{args.name}-component"), state

    def _gcp_resource(self, args: pulumi.runtime.MockResourceArgs, rid: str, state: dict) -> tuple[str, dict]:
        """A GCP resource: its autoname, its id (the API path) and self link, and what GCP computes."""
        project = pulumi.Config("gcp").get("project") or self.gcp_project
        name = state.get("name") or f"{args.name}-{rid[:7]}"  # Pulumi's autonaming: name + random suffix
        location = (f"regions/{args.inputs['region']}" if "region" in args.inputs
                    else f"locations/{args.inputs.get('location') or 'global'}"
                    if args.typ.startswith(("gcp:certificatemanager", "gcp:networksecurity")) else "global")
        rid = f"projects/{project}/{location}/{GCP_COLLECTIONS[args.typ]}/{name}"
        state.update(name=name, project=project, selfLink=f"https://www.googleapis.com/compute/v1/{rid}")
        if args.typ == "gcp:compute/globalAddress:GlobalAddress":
            number = int(_stable_id(rid)[:4], 16)
            state["address"] = (f"2600:1901:0:{number:x}::" if args.inputs.get("ipVersion") == "IPV6"
                                else f"34.{number % 256}.{number // 256}.1")
        if args.typ == "gcp:certificatemanager/dnsAuthorization:DnsAuthorization":
            domain = args.inputs["domain"]
            state["dnsResourceRecords"] = [{
                "name": f"_acme-challenge.{domain}.",
                "type": "CNAME",
                "data": f"{_stable_id(rid)[:36]}.4.authorize.certificatemanager.goog.",
            }]
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        self.invokes.append(Invoke(args.token, dict(args.args)))
        if args.token == "cloudflare:index/getZone:getZone":
            name = (args.args.get("filter") or {}).get("name")
            return {"id": self.zone_id, "zoneId": self.zone_id, "name": name, "status": "active"}
        if args.token == "cloudflare:index/getIpRanges:getIpRanges":
            return {"ipv4Cidrs": list(CLOUDFLARE_IPV4), "ipv6Cidrs": list(CLOUDFLARE_IPV6)}
        if args.token == "aws:ec2/getVpc:getVpc":
            return {**self.vpc, "id": args.args.get("id") or self.vpc["id"], "default": True}
        if args.token == "aws:ec2/getSubnets:getSubnets":
            return {"id": "subnets", "ids": list(self.subnets)}
        raise NotImplementedError(f"the offline engine has no answer for the lookup {args.token}")
