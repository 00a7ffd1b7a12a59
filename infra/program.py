"""The stack: settings and customers first, then the origin, the edge and the customer hostnames.

Everything that can be wrong in the settings or the customers file is checked before the first
resource is declared: a program that stops early declares nothing, so Pulumi deletes nothing.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_cloudflare as cloudflare

from infra.components.certificate_alerts import CertificateAlerts, CertificateAlertsArgs
from infra.components.customer_hostnames import CustomerHostnames, CustomerHostnamesArgs, shard_aliases
from infra.components.edge import Edge, EdgeArgs, lookup_zone_id
from infra.components.origin_auth import OriginAuth, OriginAuthArgs
from infra.model import names
from infra.model.customers import CustomerHostname, CustomersFile, CustomersFileError, load_customers
from infra.model.examples import refuse_examples
from infra.model.names import PROJECT
from infra.model.settings import (
    ALB_ORIGIN,
    CORE_ROLE,
    EXTERNAL_ORIGIN,
    SHARD_ROLE,
    SettingsError,
    StackSettings,
    settings_from,
)
from infra.model.sharding import shard_of

# pulumi_aws and pulumi_gcp are imported by the origin a stack chooses, never both: each costs
# seconds and hundreds of MB (tests/components/test_program_origins.py checks it).

CONFIRM_REMOVALS = (f"confirm it for this deployment with `pulumi config set {PROJECT}:allowRemovals {{count}}` "
                    f"(and set it back to 0 afterwards)")


@dataclass
class Network:
    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    subnet_ids: pulumi.Input[list[str]]


def load_inputs(project_dir: Path) -> tuple[StackSettings, CustomersFile]:
    """Stack settings and the validated customers file, or a RunError (shown without a traceback)."""
    try:
        settings = settings_from(pulumi.Config(PROJECT).get)
        customers = load_customers(settings.customers_path(project_dir), settings.validation_rules())
        refuse_examples(customers, pulumi.get_stack())
    except (SettingsError, CustomersFileError) as err:
        raise pulumi.RunError(str(err)) from None
    return settings, customers


def lookup_network(settings: StackSettings) -> Network:
    """The configured VPC and subnets, or the account's default VPC and its default subnets."""
    import pulumi_aws as aws

    if settings.vpc_id:
        vpc = aws.ec2.get_vpc_output(id=settings.vpc_id)
        return Network(vpc.id, vpc.cidr_block, list(settings.subnet_ids))
    vpc = aws.ec2.get_vpc_output(default=True)
    subnets = aws.ec2.get_subnets_output(filters=[
        aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc.id]),
        aws.ec2.GetSubnetsFilterArgs(name="default-for-az", values=["true"]),
    ])
    return Network(vpc.id, vpc.cidr_block, subnets.ids)


# Thousands of resources mean millions of long-lived objects, which CPython's cyclic collector keeps
# re-scanning: about half the program's CPU at 10,000 customers (docs/scale.md). Collect far less often.
GC_THRESHOLDS = (50_000, 50, 100)


def build_stack(project_dir: Path) -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    settings, customers = load_inputs(project_dir)
    pulumi.run(lambda: declare_stack(settings, customers))


def declared_hostnames(settings: StackSettings, customers: CustomersFile) -> list[CustomerHostname]:
    """The hostnames this stack declares: all of them, none (core) or its shard's share (shard)."""
    if settings.role == CORE_ROLE:
        return []
    if settings.role == SHARD_ROLE:
        return [h for h in customers.hostnames if shard_of(h.hostname, settings.shards) == settings.shard]
    return list(customers.hostnames)


async def refuse_mass_removal(settings: StackSettings, hostnames: list[CustomerHostname]) -> None:
    """Compare with the hostnames this stack last deployed (its own `customerHostnames` output)."""
    fully_qualified = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    last_deployment = pulumi.StackReference(names.LAST_DEPLOYMENT, stack_name=fully_qualified)
    deployed = (await last_deployment.get_output_details("customerHostnames")).value or {}
    removed = sorted(set(deployed) - {h.hostname for h in hostnames})
    refusal = settings.removal_guard.refusal(removed, how_to_confirm=CONFIRM_REMOVALS)
    if refusal:
        raise pulumi.RunError(refusal)


def core_missing(core_stack: str, what: str) -> pulumi.RunError:
    return pulumi.RunError(
        f"the core stack {core_stack} {what}: deploy the core first (`pulumi up --stack {core_stack}`), "
        f"then this shard; {PROJECT}:coreStack names the core by organization/project/stack")


async def core_zone_id(settings: StackSettings) -> str:
    """The zone id from the core's outputs, read before anything is declared; a RunError when missing."""
    assert settings.core_stack  # settings_from refuses a shard without it
    core = pulumi.StackReference(names.CORE_REFERENCE, stack_name=settings.core_stack)
    zone = (await core.get_output_details("zone")).value
    if zone is not None and zone != settings.zone:
        raise pulumi.RunError(f"the core stack {settings.core_stack} serves the zone {zone}, this shard's "
                              f"{PROJECT}:zone is {settings.zone}: a shard and its core share one zone")
    zone_id = (await core.get_output_details("zoneId")).value
    if not zone_id:
        raise core_missing(settings.core_stack, "has no zoneId output")
    return zone_id


async def declare_stack(settings: StackSettings, customers: CustomersFile) -> None:
    hostnames = declared_hostnames(settings, customers)
    await refuse_mass_removal(settings, hostnames)
    if settings.role == SHARD_ROLE:
        await declare_shard(settings, hostnames)
        return


    zone_id = settings.zone_id or lookup_zone_id(settings.zone)
    cloudflare_ranges = cloudflare.get_ip_ranges_output()
    network = lookup_network(settings) if settings.origin == ALB_ORIGIN else None

    origin_auth = OriginAuth(names.ORIGIN_AUTH, OriginAuthArgs(
        mode=settings.origin_auth, zone=settings.zone, zone_id=zone_id,
        fallback_hostname=settings.fallback_hostname, origin=settings.origin,
        transform_rules=settings.transform_rules))
    if network is not None:
        fallback_target = declare_alb_origin(settings, zone_id, network, cloudflare_ranges, origin_auth)
    elif settings.origin == EXTERNAL_ORIGIN:
        fallback_target = declare_external_origin(settings, zone_id, cloudflare_ranges, origin_auth)
    else:
        fallback_target = declare_cloud_run_origin(settings, zone_id, cloudflare_ranges, origin_auth)
    edge = Edge(names.EDGE, EdgeArgs(
        zone_id=zone_id,
        fallback_hostname=settings.fallback_hostname,
        cname_domain=settings.cname_domain,
        manage_zone_ssl_mode=settings.manage_zone_ssl_mode,
        **fallback_target,
    ))
    if settings.declares_alerts:
        declare_alerts(settings)
    if settings.role == CORE_ROLE:
        # What the shards read through their stack reference (zoneId is exported with the origin).
        pulumi.export("fallbackOrigin", edge.fallback_origin_name)
        pulumi.export("zone", settings.zone)
        pulumi.export("cnameDomain", settings.cname_domain)
        return
    components = CustomerHostnames(names.CUSTOMERS, CustomerHostnamesArgs(
        zone_id=zone_id,
        hostnames=hostnames,
        cname_domain=settings.cname_domain,
    ))

    pulumi.export("fallbackOrigin", edge.fallback_origin_name)
    pulumi.export("customerHostnames", components.dns_instructions)


async def declare_shard(settings: StackSettings, hostnames: list[CustomerHostname]) -> None:
    """Only the shard's custom hostnames, in the zone the core serves; the core owns the rest."""
    zone_id = await core_zone_id(settings)
    components = CustomerHostnames(names.CUSTOMERS, CustomerHostnamesArgs(
        zone_id=zone_id,
        hostnames=hostnames,
        cname_domain=settings.cname_domain,
        aliases=shard_aliases(),
    ))
    pulumi.export("customerHostnames", components.dns_instructions)


def declare_alerts(settings: StackSettings) -> None:
    """Certificate alerts (roles all and core; settings_from refuses them on a shard), and their outputs.

    The webhook URL is read as a secret, so it stays encrypted in state and output; its value was
    checked (https, a host) by settings_from before anything was declared.
    """
    assert settings.account_id  # declares_alerts
    webhook_url = webhook_secret = None
    if settings.alert_webhook_url:
        webhook_url = pulumi.Config(PROJECT).require_secret("alertWebhookUrl").apply(str.strip)
    if settings.alert_webhook_secret:
        webhook_secret = pulumi.Config(PROJECT).require_secret("alertWebhookSecret").apply(str.strip)
    alerts = CertificateAlerts(names.CERTIFICATE_ALERTS, CertificateAlertsArgs(
        account_id=settings.account_id, zone=settings.zone, webhook_url=webhook_url,
        webhook_secret=webhook_secret, emails=settings.alert_emails))
    pulumi.export("alertPolicyId", alerts.policy_id)
    if alerts.webhook_secret is not None:
        pulumi.export("alertWebhookSecret", alerts.webhook_secret)


def declare_alb_origin(settings: StackSettings, zone_id: pulumi.Input[str], network: Network,
                       cloudflare_ranges: pulumi.Output, origin_auth: OriginAuth) -> dict[str, pulumi.Input[str]]:
    """The ALB origin and its outputs; what the fallback record points at (a CNAME to the ALB)."""
    from infra.components.origin import Origin, OriginArgs

    origin = Origin(names.ORIGIN, OriginArgs(
        zone_id=zone_id,
        fallback_hostname=settings.fallback_hostname,
        vpc_id=network.vpc_id,
        vpc_cidr=network.vpc_cidr,
        subnet_ids=network.subnet_ids,
        ingress_ipv4_cidrs=cloudflare_ranges.ipv4_cidrs,
        ingress_ipv6_cidrs=cloudflare_ranges.ipv6_cidrs,
        target_port=settings.target_port,
        target_type=settings.target_type,
        health_check_path=settings.health_check_path,
        ssl_policy=settings.ssl_policy,
        deletion_protection=settings.deletion_protection,
        auth_header_value=origin_auth.header_value,
        trust_store_arn=origin_auth.trust_store_arn,
    ))
    pulumi.export("zoneId", zone_id)
    pulumi.export("albDnsName", origin.dns_name)
    pulumi.export("targetGroupArn", origin.target_group_arn)
    return {"origin_dns_name": origin.dns_name}


def declare_cloud_run_origin(settings: StackSettings, zone_id: pulumi.Input[str], cloudflare_ranges: pulumi.Output,
                             origin_auth: OriginAuth) -> dict[str, pulumi.Input[str]]:
    """The Cloud Run origin behind a global load balancer; the fallback record's A and AAAA addresses."""
    from infra.components.cloud_run_origin import CloudRunOrigin, CloudRunOriginArgs

    origin = CloudRunOrigin(names.ORIGIN, CloudRunOriginArgs(
        zone_id=zone_id,
        fallback_hostname=settings.fallback_hostname,
        service=settings.cloud_run_service,
        region=settings.cloud_run_region,
        ingress_ipv4_cidrs=cloudflare_ranges.ipv4_cidrs,
        ingress_ipv6_cidrs=cloudflare_ranges.ipv6_cidrs,
        auth_header_value=origin_auth.header_value,
        ca_certificate_pem=origin_auth.ca_certificate_pem,
    ))
    pulumi.export("zoneId", zone_id)
    pulumi.export("loadBalancerIpv4", origin.ipv4_address)
    pulumi.export("loadBalancerIpv6", origin.ipv6_address)
    pulumi.export("backendService", origin.backend_service_name)
    return {"origin_ipv4": origin.ipv4_address, "origin_ipv6": origin.ipv6_address}


def declare_external_origin(settings: StackSettings, zone_id: pulumi.Input[str], cloudflare_ranges: pulumi.Output,
                            origin_auth: OriginAuth) -> dict[str, pulumi.Input[str]]:
    """An origin of the team's own: nothing to declare for it, only what it needs to know (outputs).

    The fallback record becomes a proxied CNAME to originHostname. The origin itself must admit only
    Cloudflare's ranges and check the origin authentication this stack sets up (docs/operators.md,
    "What an external origin needs from you"), so the stack hands it both: the ranges, and the header or
    the CA of the client certificate Cloudflare presents. No AWS or Google Cloud provider is loaded.
    """
    assert settings.origin_hostname  # settings_from refuses origin external without it
    pulumi.export("zoneId", zone_id)
    pulumi.export("originHostname", settings.origin_hostname)
    pulumi.export("cloudflareIpv4Cidrs", cloudflare_ranges.ipv4_cidrs)
    pulumi.export("cloudflareIpv6Cidrs", cloudflare_ranges.ipv6_cidrs)
    if origin_auth.header_value is not None:
        pulumi.export("originAuthHeaderName", origin_auth.header_name)
        pulumi.export("originAuthHeaderValue", origin_auth.header_value)  # a secret
    if origin_auth.ca_certificate_pem is not None:
        pulumi.export("originPullCaCertificate", origin_auth.ca_certificate_pem)
    return {"origin_dns_name": settings.origin_hostname, "origin_description": "the origin"}
