"""Certificate alerts: the webhook destination is https."""

from __future__ import annotations

from urllib.parse import urlsplit

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from saas_policies.names import NOTIFICATION_WEBHOOK
from saas_policies.props import UNKNOWN, _get


def _https_with_host(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() == "https" and bool(parts.hostname)
    except ValueError:
        return False


def _validate_alert_webhook_https(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != NOTIFICATION_WEBHOOK:
        return
    url = _get(args.props, "url")
    if url is UNKNOWN or url is None:  # unknown until `up`, or missing (the provider refuses that itself)
        return
    if not isinstance(url, str) or not _https_with_host(url):
        report(f"notification webhook {args.name!r} does not send to an https:// URL with a host: Cloudflare sends "
               "the webhook's shared secret (cf-webhook-auth header) and the alert with every notification, in "
               "clear text over http (the URL is a secret and not shown).")


alert_webhook_https = ResourceValidationPolicy(
    name="alert-webhook-https",
    description="Every cloudflare.NotificationPolicyWebhooks url is https:// with a host (its cf-webhook-auth secret "
                "travels with every notification). The url is a Pulumi secret: the engine hands policies secret "
                "inputs decrypted, so the policy sees it, and never prints it; during a preview a url computed "
                "from other resources is unknown and checked at `up`.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_alert_webhook_https,
)
