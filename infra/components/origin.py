"""The AWS origin: one ALB that every customer hostname reaches through Cloudflare.

The ALB serves a single certificate, for the fallback hostname; Cloudflare terminates the customers'
TLS at its edge, which is what lifts the ALB's 25-certificate ceiling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.certificate_validation import certificate_validation_record
from infra.components.origin_auth import HEADER_NAME
from infra.model import names

COMPONENT_TYPE = names.ORIGIN_TYPE
LISTENER_PORTS = (80, 443)
LAMBDA_TARGET = "lambda"


@dataclass
class OriginArgs:
    zone_id: pulumi.Input[str]
    fallback_hostname: str  # the ALB certificate's name; validated through a DNS record in the zone
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]  # the ALB may talk only to targets inside the VPC
    subnet_ids: pulumi.Input[Sequence[str]]
    ingress_ipv4_cidrs: pulumi.Input[Sequence[str]]  # Cloudflare's published ranges, nothing else
    ingress_ipv6_cidrs: pulumi.Input[Sequence[str]]
    target_port: int
    target_type: str
    health_check_path: str
    ssl_policy: str
    deletion_protection: bool
    # Origin authentication (infra/components/origin_auth.py): at most one of the two is set.
    auth_header_value: pulumi.Input[str] | None = None  # required in HEADER_NAME, else 403
    trust_store_arn: pulumi.Input[str] | None = None  # client certificates verified against it

    @property
    def lambda_target(self) -> bool:
        """A Lambda target is invoked through the AWS API: no port, protocol, VPC or egress."""
        return self.target_type == LAMBDA_TARGET


class Origin(pulumi.ComponentResource):
    """Security group, ALB, target group, ACM certificate and listeners, created in that order."""

    def __init__(self, name: str, args: OriginArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._security_group(name, args)
        self._load_balancer(name, args)
        self._target_group(name, args)
        self._certificate(name, args)
        self._listeners(name, args)

        self.dns_name = self.load_balancer.dns_name
        self.target_group_arn = self.target_group.arn
        self.register_outputs({
            "dnsName": self.dns_name,
            "targetGroupArn": self.target_group_arn,
            "securityGroupId": self.security_group.id,
            "certificateArn": self.certificate_validation.certificate_arn,
        })

    def _security_group(self, name: str, args: OriginArgs) -> None:
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-alb",
            # EC2 accepts only a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$* here: no apostrophes.
            description="ALB origin: HTTP/HTTPS from the Cloudflare published ranges only",
            vpc_id=args.vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description=f"Cloudflare edge, port {port}",
                    protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_blocks=args.ingress_ipv4_cidrs,
                    ipv6_cidr_blocks=args.ingress_ipv6_cidrs,
                )
                for port in LISTENER_PORTS
            ],
            # A Lambda target is invoked through the AWS API, not over the VPC: no egress at all.
            egress=[] if args.lambda_target else [
                aws.ec2.SecurityGroupEgressArgs(
                    description="ALB to the application targets inside the VPC",
                    protocol="tcp",
                    from_port=args.target_port,
                    to_port=args.target_port,
                    cidr_blocks=[args.vpc_cidr],
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _load_balancer(self, name: str, args: OriginArgs) -> None:
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            security_groups=[self.security_group.id],
            subnets=args.subnet_ids,
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _target_group(self, name: str, args: OriginArgs) -> None:
        # Port, protocol, VPC and the health check's protocol "do not apply" to a Lambda target group
        # (pulumi-aws TargetGroup schema): sending them fails the create.
        is_lambda = args.lambda_target
        self.target_group = aws.lb.TargetGroup(
            f"{name}-app",
            port=None if is_lambda else args.target_port,
            protocol=None if is_lambda else "HTTP",
            target_type=args.target_type,
            vpc_id=None if is_lambda else args.vpc_id,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True, path=args.health_check_path, protocol=None if is_lambda else "HTTP",
                matcher="200-399"),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _certificate(self, name: str, args: OriginArgs) -> None:
        """The fallback hostname's certificate, validated through a DNS record in the zone."""
        child = pulumi.ResourceOptions(parent=self)
        self.certificate = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=args.fallback_hostname,
            validation_method="DNS",
            opts=child,
        )
        validation = self.certificate.domain_validation_options[0]
        self.validation_record = certificate_validation_record(
            f"{name}-cert-validation", zone_id=args.zone_id, name=validation.resource_record_name,
            record_type=validation.resource_record_type, content=validation.resource_record_value,
            comment="ACM validation of the ALB certificate (managed by saas-domains)", parent=self)
        self.certificate_validation = aws.acm.CertificateValidation(
            f"{name}-cert",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[validation.resource_record_name],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.validation_record]),
        )

    def _listeners(self, name: str, args: OriginArgs) -> None:
        """HTTPS forwards to the target group (only with the secret header, when set); HTTP redirects."""
        child = pulumi.ResourceOptions(parent=self)
        forward = aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group.arn)
        forbidden = aws.lb.ListenerDefaultActionArgs(
            type="fixed-response", fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                status_code="403", content_type="text/plain", message_body="Forbidden"))
        self.https_listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=args.ssl_policy,
            certificate_arn=self.certificate_validation.certificate_arn,
            # With the secret header, only the listener rule below forwards; anything else is refused.
            default_actions=[forbidden if args.auth_header_value is not None else forward],
            mutual_authentication=aws.lb.ListenerMutualAuthenticationArgs(
                mode="verify", trust_store_arn=args.trust_store_arn) if args.trust_store_arn is not None else None,
            opts=child,
        )
        if args.auth_header_value is not None:
            self.authenticated_rule = aws.lb.ListenerRule(
                f"{name}-authenticated",
                listener_arn=self.https_listener.arn,
                priority=1,
                conditions=[aws.lb.ListenerRuleConditionArgs(
                    http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                        http_header_name=HEADER_NAME, values=[args.auth_header_value]))],
                actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_group.arn)],
                opts=child,
            )
        self.http_listener = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port="443", status_code="HTTP_301"),
            )],
            opts=child,
        )
