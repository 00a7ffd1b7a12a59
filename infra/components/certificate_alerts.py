"""Certificate alerts: Cloudflare tells a webhook and/or e-mail addresses about custom-hostname certificates.

One notification policy of the alert type Cloudflare sends for Cloudflare for SaaS custom-hostname
certificates (validation, issuance, deployment, renewal and deletion, succeeded or failed; failures
repeat on every validation retry), with a webhook destination when a URL is configured. The webhook's
shared secret, which Cloudflare sends in the `cf-webhook-auth` header, is the team's own
(`alertWebhookSecret`) or a random password; the URL and the secret stay Pulumi secrets. Cloudflare
tests a destination when it is created or changed ("Save and Test": a fixed text message, with the
header) and refuses it unless the receiver answers 2xx: docs/operators.md "Alerts" says how a receiver handles it.
Notifications belong to the account, not the zone: the policy fires for every SaaS zone of the account,
so only role `all` and `core` stacks declare it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_random as random

from infra.model import names

COMPONENT_TYPE = names.CERTIFICATE_ALERTS_TYPE
ALERT_TYPE = names.CUSTOM_HOSTNAME_CERTIFICATE_ALERT
SECRET_LENGTH = 48  # letters and digits only: any HTTP header value can carry it


def policy_name(zone: str) -> str:
    return f"saas-domains {zone}: custom hostname certificates"


def policy_description(zone: str) -> str:
    return (f"Cloudflare for SaaS custom hostname certificate events (validation, issuance, deployment, renewal, "
            f"deletion), declared by the saas-domains stack of {zone}. Account-wide: every SaaS zone of the "
            "account triggers it.")


def webhook_name(zone: str) -> str:
    """Cloudflare includes it in the body of every notification it sends to the webhook."""
    return f"saas-domains {zone}: certificate alerts"


@dataclass
class CertificateAlertsArgs:
    account_id: str
    zone: str  # named in the policy and the webhook, which are account-wide
    webhook_url: pulumi.Input[str] | None = None  # a secret; None: e-mail only
    # A secret the team chose (so the receiver knows it before the first up); None: a random password.
    webhook_secret: pulumi.Input[str] | None = None
    emails: Sequence[str] = ()


class CertificateAlerts(pulumi.ComponentResource):
    """A notification policy for custom-hostname certificate events, and its webhook destination."""

    webhook_secret: pulumi.Output[str] | None = None

    def __init__(self, name: str, args: CertificateAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        if args.webhook_url is None and not args.emails:
            raise ValueError("certificate alerts need a webhook URL or e-mail addresses")
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.webhook = None
        webhooks = None
        if args.webhook_url is not None:
            if args.webhook_secret is not None:
                self.webhook_secret = pulumi.Output.secret(args.webhook_secret)
            else:
                secret = random.RandomPassword(names.child(name, names.ALERT_WEBHOOK_SECRET), length=SECRET_LENGTH,
                                               special=False, opts=child)
                self.webhook_secret = pulumi.Output.secret(secret.result)
            self.webhook = cloudflare.NotificationPolicyWebhooks(
                names.child(name, names.ALERT_WEBHOOK),
                account_id=args.account_id,
                name=webhook_name(args.zone),
                url=pulumi.Output.secret(args.webhook_url),
                secret=self.webhook_secret,
                opts=child,
            )
            webhooks = [cloudflare.NotificationPolicyMechanismsWebhookArgs(id=self.webhook.id)]
        emails = [cloudflare.NotificationPolicyMechanismsEmailArgs(id=address) for address in args.emails] or None
        self.policy = cloudflare.NotificationPolicy(
            names.child(name, names.ALERT_POLICY),
            account_id=args.account_id,
            alert_type=ALERT_TYPE,
            name=policy_name(args.zone),
            description=policy_description(args.zone),
            enabled=True,
            mechanisms=cloudflare.NotificationPolicyMechanismsArgs(webhooks=webhooks, emails=emails),
            opts=child,
        )

        self.policy_id = self.policy.id
        self.register_outputs({
            "policyId": self.policy.id,
            "webhookId": self.webhook.id if self.webhook is not None else None,
        })
