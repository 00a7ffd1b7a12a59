"""Run the real `__main__.py` under Pulumi's mock engine, with a stack's config, and record it all.

This is how the program is exercised without the Pulumi CLI, provider plugins or credentials: the
same entry point `pulumi up` runs, driven the way Pulumi's own language host drives it
(`run_in_stack` on a fresh event loop), with a fake cloud answering resource registrations and
provider lookups. What comes back is what the program declares, not what is deployed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import runpy
import sys
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import set_root_resource
from pulumi.runtime.stack import run_in_stack

from infra.errors import ProgramError
from infra.model.names import NOTIFICATION_POLICY_RESOURCE, NOTIFICATION_WEBHOOK_RESOURCE, PROJECT
from infra.model.settings import SETTINGS, SettingsError, is_encrypted
from infra.stack_files import read_stack_file

SECRET_PLACEHOLDER = "[secret]"
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
class DeclaredResource:
    urn: str
    id: str | None
    type: str
    name: str
    parent: str  # the parent's URN ("" for the stack itself)
    custom: bool
    inputs: dict[str, Any]  # secrets unwrapped; their paths are in `secret_inputs`
    state: dict[str, Any]
    dependencies: list[str]  # URNs from depends_on and from inputs
    secret_inputs: list[str] = field(default_factory=list)  # e.g. "conditions[0].httpHeader.values[0]"
    # The aliases sent with the registration: {"urn": ...} or a spec {"name", "type", "stack", "project",
    # "parentUrn" | "noParent": True}, empty strings meaning "the resource's own" as the engine reads them.
    aliases: list[dict[str, Any]] = field(default_factory=list)

    def alias_urns(self) -> list[str]:
        """The URNs the engine would accept as this resource's old ones, as it resolves alias specs.

        Unset parts of a spec are the resource's own (name, type, stack, project, parent); `noParent`
        means none; a child of the root stack carries no parent type (the engine's resource.CreateURN).
        """
        stack, project = self.urn.split("::")[0].removeprefix("urn:pulumi:"), self.urn.split("::")[1]
        found = []
        for alias in self.aliases:
            if "urn" in alias:
                found.append(alias["urn"])
                continue
            parent = "" if alias.get("noParent") else alias.get("parentUrn") or self.parent
            parent_type = parent.split("::")[2] if parent else ""
            own_type = alias["type"] or self.type
            qualified = (own_type if not parent_type or parent_type == "pulumi:pulumi:Stack"
                         else f"{parent_type}${own_type}")
            found.append(f"urn:pulumi:{alias['stack'] or stack}::{alias['project'] or project}::"
                         f"{qualified}::{alias['name'] or self.name}")
        return found


@dataclass
class Invoke:
    token: str
    args: dict[str, Any]


@dataclass
class Rendering:
    stack: str
    config: dict[str, str]
    resources: list[DeclaredResource] = field(default_factory=list)
    invokes: list[Invoke] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)  # secrets unwrapped; their paths are in `secret_outputs`
    secret_outputs: list[str] = field(default_factory=list)  # e.g. "alertWebhookSecret"

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self) -> dict[str, DeclaredResource]:
        return {r.urn: r for r in self.resources}


def _pem(kind: str, rid: str) -> str:
    return f"-----BEGIN {kind}-----\noffline placeholder {rid}\n-----END {kind}-----\n"


def _unwrap_secrets(value: Any, path: str, found: list[str]) -> Any:
    """Plain values for assertions, with the paths of the ones Pulumi would store as secrets."""
    if rpc.is_rpc_secret(value):
        found.append(path)
        return _unwrap_secrets(rpc.unwrap_rpc_secret(value), path, found)
    if isinstance(value, dict):
        return {k: _unwrap_secrets(v, f"{path}.{k}" if path else k, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def _stable_id(*parts: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)).hex


class FakeCloud(pulumi.runtime.Mocks):
    """Answers like AWS, Google Cloud and Cloudflare would after a create, with stable ids and placeholders."""

    zone_id = "0123456789abcdef0123456789abcdef"
    vpc = {"id": "vpc-0a1b2c3d", "cidrBlock": "172.31.0.0/16"}
    subnets = ["subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333"]
    gcp_project = "offline-project"  # when the stack sets no gcp:project

    def __init__(self, deployed_outputs: dict[str, Any] | None = None,
                 core_outputs: dict[str, Any] | None = None) -> None:
        self.deployed_outputs = deployed_outputs or {}  # the stack's outputs at its last deployment
        # What a shard's reference to its core (saas-domains:coreStack) reads; None: a deployed core's.
        self.core_outputs = core_outputs
        self.invokes: list[Invoke] = []
        self.created: list[str] = []  # resource types in registration order, components included

    def outputs_of_core(self) -> dict[str, Any]:
        """The core stack's outputs as a shard reads them: those given, or what a deployed core exports."""
        if self.core_outputs is not None:
            return self.core_outputs
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
        args.inputs = _unwrap_secrets(args.inputs, "", [])
        if args.typ == "pulumi:pulumi:StackReference":
            outputs = (self.outputs_of_core() if args.inputs["name"] == pulumi.Config(PROJECT).get("coreStack")
                       else self.deployed_outputs)
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


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, keeping each registration's parent and dependencies and the stack outputs."""

    def __init__(self, mocks: FakeCloud):
        super().__init__(mocks)
        self.registrations: dict[str, dict[str, Any]] = {}
        self.stack_outputs: dict[str, Any] | None = None

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine leaves the root stack's type out of its children's URNs; the mock would not.
        if parent and parent.split("::")[2] == "pulumi:pulumi:Stack":
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            deps = set(request.dependencies)
            for prop_deps in request.propertyDependencies.values():
                deps.update(prop_deps.urns)
            secrets: list[str] = []
            inputs = _unwrap_secrets(rpc.deserialize_properties(request.object), "", secrets)
            self.registrations[response.urn] = {
                "type": request.type, "name": request.name, "parent": request.parent,
                "custom": request.custom, "inputs": inputs, "dependencies": sorted(deps),
                "secret_inputs": secrets, "aliases": _aliases(request),
            }
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


def _aliases(request: Any) -> list[dict[str, Any]]:
    """The registration's aliases, specs (what an SDK sends to an engine that supports them) or URNs."""
    found: list[dict[str, Any]] = [{"urn": urn} for urn in request.aliasURNs]
    for alias in request.aliases:
        if alias.WhichOneof("alias") == "urn":
            found.append({"urn": alias.urn})
            continue
        spec = alias.spec
        entry: dict[str, Any] = {"name": spec.name, "type": spec.type, "stack": spec.stack, "project": spec.project}
        if spec.WhichOneof("parent") == "noParent":
            entry["noParent"] = spec.noParent
        elif spec.WhichOneof("parent") == "parentUrn":
            entry["parentUrn"] = spec.parentUrn
        found.append(entry)
    return found


# What the program gets offline for a secret setting the stack file holds encrypted (e.g. an https URL
# where the setting's rules want one): the real value is decrypted only by Pulumi.
OFFLINE_PLACEHOLDERS = {f"{PROJECT}:{s.key}": s.offline_placeholder for s in SETTINGS if s.offline_placeholder}


def config_value(value: Any, key: str | None = None) -> str:
    """A stack-file value as Pulumi hands it to the program: a string (JSON for lists and maps)."""
    if is_encrypted(value):
        # Not decryptable offline, and never printed: a placeholder the setting's rules accept, if it has one.
        return OFFLINE_PLACEHOLDERS.get(key or "", SECRET_PLACEHOLDER)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def render(project_dir: Path, stack: str = "dev", *, config: Mapping[str, str] | None = None,
           cloud: FakeCloud | None = None) -> Rendering:
    """Run `<project_dir>/__main__.py` once under mocks with the stack's config (or `config`)."""
    project_dir = Path(project_dir).resolve()
    secret_keys: list[str] = []
    if config is None:
        try:
            stack_file = read_stack_file(project_dir, stack)
        except SettingsError as err:
            raise ProgramError(str(err)) from None
        config = {key: config_value(value, key) for key, value in stack_file.items()}
        secret_keys = [key for key, value in stack_file.items() if is_encrypted(value)]  # as Pulumi marks them
    config = dict(config)
    cloud = cloud or FakeCloud()
    monitor = _RecordingMonitor(cloud)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # Pulumi calls the monitor from executor threads, each of which makes itself an event loop;
    # own those loops so they are closed here rather than half-finalised at interpreter exit.
    thread_loops: list[asyncio.AbstractEventLoop] = []

    def give_thread_a_loop() -> None:
        thread_loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(thread_loops[-1])

    executor = ThreadPoolExecutor(initializer=give_thread_a_loop)
    loop.set_default_executor(executor)
    sys.path.insert(0, str(project_dir))
    try:
        pulumi.runtime.set_mocks(cloud, project=PROJECT, stack=stack, preview=False, monitor=monitor,
                                 organization="organization")  # what a DIY backend reports
        set_root_resource(None)  # run_in_stack makes the stack resource, as under `pulumi up`
        pulumi.runtime.set_all_config(config, secret_keys)
        main = str(project_dir / "__main__.py")
        try:
            loop.run_until_complete(run_in_stack(lambda: runpy.run_path(main, run_name="__main__")))
        except pulumi.RunError as err:
            raise ProgramError(str(err)) from None
    finally:
        sys.path.remove(str(project_dir))
        for task in asyncio.all_tasks(loop):
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        loop.close()
        asyncio.set_event_loop(None)
        executor.shutdown(wait=True)
        for thread_loop in thread_loops:
            thread_loop.close()

    secret_outputs: list[str] = []
    rendering = Rendering(stack=stack, config=config, invokes=cloud.invokes,
                          outputs=_unwrap_secrets(monitor.stack_outputs or {}, "", secret_outputs),
                          secret_outputs=secret_outputs)
    for urn, reg in monitor.registrations.items():
        registered = monitor.resources.get(urn)
        rendering.resources.append(DeclaredResource(
            urn=urn, id=registered.id if registered else None, type=reg["type"], name=reg["name"],
            parent=reg["parent"], custom=reg["custom"], inputs=reg["inputs"],
            state=dict(registered.state) if registered else {},
            dependencies=reg["dependencies"], secret_inputs=reg["secret_inputs"], aliases=reg["aliases"]))
    return rendering
