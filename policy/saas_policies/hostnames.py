"""Custom hostnames: TLS 1.2 or better, every drifting ssl field set."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from saas_policies.names import ACCEPTED_MIN_TLS_VERSIONS, CUSTOM_HOSTNAME, EXPLICIT_SSL_FIELDS, EXPLICIT_SSL_SETTINGS
from saas_policies.props import UNKNOWN, _get


def _validate_min_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CUSTOM_HOSTNAME:
        return
    version = _get(args.props, "ssl", "settings", "minTlsVersion")
    if version is UNKNOWN:
        return
    if version is None:
        report(f"custom hostname {args.name!r} sets no ssl.settings.minTlsVersion; Cloudflare's default "
               "accepts TLS 1.0. Set \"1.2\" or \"1.3\".")
    elif version not in ACCEPTED_MIN_TLS_VERSIONS:
        report(f"custom hostname {args.name!r} accepts TLS {version}; the minimum is TLS 1.2 "
               "(ssl.settings.minTlsVersion \"1.2\" or \"1.3\").")


custom_hostname_min_tls = ResourceValidationPolicy(
    name="custom-hostname-min-tls",
    description="Every custom hostname refuses TLS below 1.2 (ssl.settings.minTlsVersion 1.2 or 1.3).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_min_tls,
)


def _validate_explicit_ssl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CUSTOM_HOSTNAME:
        return
    ssl = _get(args.props, "ssl")
    if ssl is UNKNOWN:
        return
    if not isinstance(ssl, Mapping):
        report(f"custom hostname {args.name!r} has no ssl block; set every ssl field explicitly "
               "(unset ones drift: provider issue #5521).")
        return
    missing = [f"ssl.{key}" for key in EXPLICIT_SSL_FIELDS if _get(ssl, key) is None]
    settings = _get(ssl, "settings")
    if settings is not UNKNOWN:
        missing += [f"ssl.settings.{key}" for key in EXPLICIT_SSL_SETTINGS if _get(settings, key) is None]
    if missing:
        report(f"custom hostname {args.name!r} leaves {', '.join(missing)} unset; the provider then shows a "
               "diff on every preview and rewrites the hostname on every `up` (provider issue #5521).")


custom_hostname_explicit_ssl = ResourceValidationPolicy(
    name="custom-hostname-explicit-ssl",
    description="Every custom hostname sets ssl type, method, wildcard, bundleMethod and "
                "settings.minTlsVersion/http2/tls13/earlyHints explicitly (unset ones drift).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_explicit_ssl,
)
