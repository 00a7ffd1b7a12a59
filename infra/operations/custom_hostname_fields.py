"""The fields every command reads from a custom hostname as the Cloudflare API gives it, in one place.

Dicts shaped like the API's custom-hostname JSON (`status`, `ssl.status`, `ssl.method`,
`ssl.validation_records`, `ssl.validation_errors`, `verification_errors`, `ownership_verification`,
`created_at`...): the spec makes most of them optional, so each reader here tolerates their absence.
`status`, `check`, `instructions` and `import` read them through these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.model.hostnames import normalise_hostname

# The CAs Cloudflare for SaaS issues from, as the API names them and as CAA records name them.
CA_CAA_DOMAINS = {"google": "pki.goog", "lets_encrypt": "letsencrypt.org", "ssl_com": "ssl.com"}


def api_hostname(item: Mapping[str, Any]) -> str:
    """The API's hostname in the customers file's canonical form, so both sides compare."""
    raw = str(item.get("hostname", ""))
    try:
        return normalise_hostname(raw, allow_wildcard=True)
    except ValueError:
        return raw.strip().lower().rstrip(".")


def ssl_of(item: Mapping[str, Any]) -> Mapping[str, Any]:
    return item.get("ssl") or {}


def hostname_status(item: Mapping[str, Any]) -> str | None:
    return item.get("status")


def certificate_status(item: Mapping[str, Any]) -> str | None:
    return ssl_of(item).get("status")


def verification_errors(item: Mapping[str, Any]) -> list[str]:
    return [str(e) for e in item.get("verification_errors") or []]


def validation_errors(item: Mapping[str, Any]) -> list[str]:
    """Certificate (DCV) errors; the API gives objects whose `message` the spec makes optional."""
    errors = ssl_of(item).get("validation_errors") or []
    messages = (e.get("message") if isinstance(e, Mapping) else e for e in errors)
    return [str(message) for message in messages if message]


def caa_domains(certificate_authority: str | None) -> list[str]:
    """The CAA issuer domains to allow: the chosen CA's, or all Cloudflare may choose from."""
    if certificate_authority in CA_CAA_DOMAINS:
        return [CA_CAA_DOMAINS[certificate_authority]]
    return list(CA_CAA_DOMAINS.values())


def blocks_ca(item: Mapping[str, Any]) -> bool:
    """Cloudflare reports a CAA refusal among the certificate's validation errors."""
    return any("caa" in message.lower() for message in validation_errors(item))


# -- time ----------------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age(item: Mapping[str, Any], now: datetime | None = None) -> timedelta | None:
    created = parse_time(item.get("created_at"))
    if created is None:
        return None
    return max(timedelta(0), (now or datetime.now(UTC)) - created)


def format_age(span: timedelta | None) -> str:
    """'12d 3h', '5h 20m', '7m': two units are enough for a support table."""
    if span is None:
        return "?"
    minutes = int(span.total_seconds() // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"
