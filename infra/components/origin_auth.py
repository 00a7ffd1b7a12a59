"""Origin authentication: the ALB serves only requests that came through *this* Cloudflare zone.

The security group admits Cloudflare's ranges, but every Cloudflare customer's traffic leaves from
those ranges; anyone could point a zone of their own at the ALB. Two ways to prove the zone:

- `header` (default): a random secret, kept only as a Pulumi secret, that a request-header
  Transform Rule of the zone adds on the way to the origin and an ALB listener rule requires;
  everything else gets 403.
- `mtls`: Authenticated Origin Pulls with a client certificate of our own CA uploaded to the zone
  (not Cloudflare's shared one, which every zone can use) and ALB mutual TLS verifying it.

`none` turns it off (the policy pack flags that).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_random as random
import pulumi_tls as tls

from infra.model import names
from infra.model.settings import ALB_ORIGIN, EXTERNAL_ORIGIN, ORIGIN_AUTH_MODES, SHARED_TRANSFORM_RULES

COMPONENT_TYPE = names.ORIGIN_AUTH_TYPE
MODES = ORIGIN_AUTH_MODES
HEADER_NAME = "X-Saas-Domains-Origin-Auth"
SECRET_LENGTH = 48  # ALB header conditions take up to 128 characters and treat * and ? as wildcards
CERT_VALIDITY_HOURS = 24 * 365 * 5
CERT_RENEWAL_HOURS = 24 * 90  # `pulumi up` within the last 90 days renews it


def trust_store_key(ca_certificate_pem: str) -> str:
    """The S3 key of the ALB trust store's CA bundle, named by the bundle's SHA-256."""
    return f"origin-pull-ca-{hashlib.sha256(ca_certificate_pem.encode()).hexdigest()[:16]}.pem"


def secret_header_expression(zone: str, fallback_hostname: str) -> str:
    """Custom hostnames (outside the zone) and the fallback record; not the zone's other sites."""
    return (f'http.host eq "{fallback_hostname}" or '
            f'not (http.host eq "{zone}" or ends_with(http.host, ".{zone}"))')


@dataclass
class OriginAuthArgs:
    mode: str  # one of MODES
    zone: str
    zone_id: pulumi.Input[str]
    fallback_hostname: str
    origin: str = ALB_ORIGIN  # which origin checks the proof: the ALB's trust store lives here (URN history)
    transform_rules: str = "own"  # header: own the zone's Transform Rules entrypoint, or add one rule to it


class OriginAuth(pulumi.ComponentResource):
    """The zone-side half of origin authentication and what the ALB needs to check it."""

    header_name = HEADER_NAME
    header_value: pulumi.Output[str] | None = None
    trust_store_arn: pulumi.Output[str] | None = None  # mtls with the ALB
    ca_certificate_pem: pulumi.Output[str] | None = None  # mtls: the CA an origin trusts for client certificates

    def __init__(self, name: str, args: OriginAuthArgs, opts: pulumi.ResourceOptions | None = None):
        if args.mode not in MODES:
            raise ValueError(f"origin authentication mode must be one of {', '.join(MODES)}, got {args.mode!r}")
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.mode = args.mode
        if args.mode == "header":
            self._secret_header(name, args)
        elif args.mode == "mtls":
            self._mutual_tls(name, args)
        self.register_outputs({"mode": args.mode, "headerName": HEADER_NAME if args.mode == "header" else None})

    def _secret_header(self, name: str, args: OriginAuthArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        # The ALB's and the Cloud Run load balancer's rulesets say "the ALB" (as deployed; changing it would
        # update every existing stack's ruleset); an external origin is named for what it is.
        checker = "the origin" if args.origin == EXTERNAL_ORIGIN else "the ALB"
        secret = random.RandomPassword(f"{name}-header-secret", length=SECRET_LENGTH, special=False, opts=child)
        self.header_value = pulumi.Output.secret(secret.result)
        if args.transform_rules == SHARED_TRANSFORM_RULES:
            from infra.components.shared_transform_rule import SharedTransformRule

            self.transform_rule = SharedTransformRule(
                f"{name}-header-rule", zone_id=args.zone_id,
                expression=secret_header_expression(args.zone, args.fallback_hostname),
                description=f"Origin authentication header for {checker} (managed by saas-domains)",
                header_name=HEADER_NAME, header_value=self.header_value, opts=child)
            return
        self.transform_rule = cloudflare.Ruleset(
            f"{name}-header",
            zone_id=args.zone_id,
            kind="zone",
            phase="http_request_late_transform",
            name="saas-domains origin authentication",
            description=f"Adds the secret header {checker} requires (managed by saas-domains)",
            rules=[cloudflare.RulesetRuleArgs(
                action="rewrite",
                expression=secret_header_expression(args.zone, args.fallback_hostname),
                description=f"Origin authentication header for {checker}",
                enabled=True,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(headers={
                    HEADER_NAME: cloudflare.RulesetRuleActionParametersHeadersArgs(
                        operation="set", value=self.header_value),
                }),
            )],
            opts=child,
        )

    def _mutual_tls(self, name: str, args: OriginAuthArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        ca_key = tls.PrivateKey(f"{name}-ca", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
        ca_cert = tls.SelfSignedCert(
            f"{name}-ca", private_key_pem=ca_key.private_key_pem, is_ca_certificate=True,
            subject=tls.SelfSignedCertSubjectArgs(common_name=f"saas-domains origin-pull CA for {args.zone}"),
            allowed_uses=["cert_signing", "crl_signing"], validity_period_hours=CERT_VALIDITY_HOURS,
            early_renewal_hours=CERT_RENEWAL_HOURS, opts=child)
        client_key = tls.PrivateKey(f"{name}-client", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
        request = tls.CertRequest(
            f"{name}-client", private_key_pem=client_key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=f"cloudflare origin pull {args.zone}"), opts=child)
        client_cert = tls.LocallySignedCert(
            f"{name}-client", cert_request_pem=request.cert_request_pem, ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca_cert.cert_pem, allowed_uses=["client_auth", "digital_signature"],
            validity_period_hours=CERT_VALIDITY_HOURS, early_renewal_hours=CERT_RENEWAL_HOURS, opts=child)

        self.zone_certificate = cloudflare.AuthenticatedOriginPullsCertificate(
            f"{name}-zone-cert", zone_id=args.zone_id, certificate=client_cert.cert_pem,
            private_key=client_key.private_key_pem, opts=child)
        # The provider's delete of the settings calls nothing (infra/components/origin_pulls_off.py): this
        # resource, deleted after the settings and before the certificate, switches pulls off instead.
        from infra.components.origin_pulls_off import OriginPullsOff

        self.pulls_off = OriginPullsOff(f"{name}-zone-pulls-off", zone_id=args.zone_id,
                                        opts=pulumi.ResourceOptions(parent=self, depends_on=[self.zone_certificate]))
        self.zone_setting = cloudflare.AuthenticatedOriginPullsSettings(
            f"{name}-zone", zone_id=args.zone_id, enabled=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.zone_certificate, self.pulls_off]))

        self.ca_certificate_pem = ca_cert.cert_pem
        if args.origin == ALB_ORIGIN:
            self.trust_store_arn = self._alb_trust_store(name, ca_cert.cert_pem)

    def _alb_trust_store(self, name: str, ca_cert_pem: pulumi.Output[str]) -> pulumi.Output[str]:
        """The ALB's trust store (an S3 object): kept in this component, where the ALB stacks have it."""
        import pulumi_aws as aws  # only ALB stacks pay for the AWS SDK

        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(f"{name}-trust-store", force_destroy=True, opts=child)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-trust-store", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        # The key names the CA by its digest: terraform-provider-aws (internal/service/elbv2/trust_store.go)
        # modifies a trust store only when its bucket, key or object version change, so a renewed CA written
        # to the same key would never reach the ALB. A new key replaces the object and updates the store.
        key = pulumi.Output.from_input(ca_cert_pem).apply(trust_store_key)
        bundle = aws.s3.BucketObjectv2(
            f"{name}-trust-store-ca", bucket=bucket.id, key=key, content=ca_cert_pem,
            content_type="application/x-pem-file", opts=child)
        trust_store = aws.lb.TrustStore(
            f"{name}-trust-store", ca_certificates_bundle_s3_bucket=bucket.id,
            ca_certificates_bundle_s3_key=bundle.key, opts=child)
        return trust_store.arn
