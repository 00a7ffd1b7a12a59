"""Origin authentication: a secret header the listener requires, or mutual TLS it verifies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from saas_policies.gcp import _armor_admits, _armor_denies, _armor_expression, _linked
from saas_policies.names import (
    _ARMOR_HEADER,
    AOP_CERTIFICATE,
    AOP_SETTINGS,
    DYNAMIC_RESOURCE,
    GCP_HTTPS_PROXY,
    GCP_SECURITY_POLICY,
    GCP_SECURITY_POLICY_RULE,
    GCP_SERVER_TLS_POLICY,
    GCP_TRUST_CONFIG,
    HEADER_PHASE,
    LISTENER_RULES,
    LISTENERS,
    LOAD_BALANCERS,
    RULESET,
    SHARED_TRANSFORM_RULE_INPUTS,
)
from saas_policies.props import (
    UNKNOWN,
    _config,
    _forwards,
    _forwards_by_default,
    _get,
    _items,
    _listener_protocol,
    _verifies_client_certificates,
)


def _validate_listener_authenticates(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in LISTENERS or _listener_protocol(args.props) != "HTTPS":
        return
    if _forwards_by_default(args.props) and not _verifies_client_certificates(args.props):
        report(f"HTTPS listener {args.name!r} forwards every request by default and verifies no client "
               "certificate, so any Cloudflare account can reach the application through Cloudflare's shared "
               "addresses: origin authentication is off (saas-domains:originAuth none) or broken. Use the "
               "secret header (a fixed-response 403 default and a listener rule on the header) or mutual TLS.")


origin_auth_https_listener = ResourceValidationPolicy(
    name="origin-auth-https-listener",
    description="The HTTPS listener serves only authenticated requests: it denies by default (secret header) "
                "or verifies client certificates (mutual TLS).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate_listener_authenticates,
)


def _header_rules(resources: Sequence[Any]) -> list[tuple[Any, str, list[Any]]]:
    """(listener rule, header name, values) for listener rules that forward on an HTTP header."""
    found = []
    for resource in resources:
        if resource.resource_type not in LISTENER_RULES:
            continue
        if not any(_forwards(action) for action in _items(_get(resource.props, "actions"))):
            continue
        for condition in _items(_get(resource.props, "conditions")):
            header = _get(condition, "httpHeader")
            name = _get(header, "httpHeaderName")
            if isinstance(name, str) or name is UNKNOWN:
                found.append((resource, name, _items(_get(header, "values"))))
    return found


def _header_rulesets(resources: Sequence[Any]) -> list[tuple[Any, str, Any]]:
    """(ruleset, header name, value) for every request header an enabled late-transform rule sets.

    With saas-domains:transformRules shared the rule is a dynamic resource of the program
    (infra/components/shared_transform_rule.py) that puts one header rule in the zone's entrypoint:
    it counts as a ruleset setting its `header_name` to its `header_value`.
    """
    found = []
    for resource in resources:
        if resource.resource_type == DYNAMIC_RESOURCE and set(SHARED_TRANSFORM_RULE_INPUTS) <= set(resource.props):
            found.append((resource, _get(resource.props, "header_name"), _get(resource.props, "header_value")))
            continue
        if resource.resource_type != RULESET or _get(resource.props, "phase") != HEADER_PHASE:
            continue
        for rule in _items(_get(resource.props, "rules")):
            if _get(rule, "enabled") is False or _get(rule, "action") not in ("rewrite", UNKNOWN):
                continue
            headers = _get(rule, "actionParameters", "headers")
            if not isinstance(headers, Mapping):
                continue
            for name in list(headers):
                if _get(headers, name, "operation") in ("set", "add", UNKNOWN):
                    found.append((resource, name, _get(headers, name, "value")))
    return found


def _rule_is_on(rule: Any, listener: Any) -> bool:
    """Whether a listener rule belongs to `listener` (by property dependency, else by known ARN)."""
    dependencies = getattr(rule, "property_dependencies", None) or {}
    if "listenerArn" in dependencies:
        return any(dep.urn == listener.urn for dep in dependencies["listenerArn"])
    rule_arn, listener_arn = _get(rule.props, "listenerArn"), _get(listener.props, "arn")
    if isinstance(rule_arn, str) and isinstance(listener_arn, str):
        return rule_arn == listener_arn
    return True  # cannot tell during a preview: give it the benefit of the doubt


def _validate_origin_auth(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = args.resources
    listeners = [r for r in resources
                 if r.resource_type in LISTENERS and _listener_protocol(r.props) == "HTTPS"]
    rules = _header_rules(resources)
    rulesets = _header_rulesets(resources)
    denying = [listener for listener in listeners if not _forwards_by_default(listener.props)]
    verifying = [listener for listener in listeners if _verifies_client_certificates(listener.props)]
    pull_settings = [r for r in resources if r.resource_type == AOP_SETTINGS]
    pulls_enabled = [_get(r.props, "enabled") for r in pull_settings]
    pull_certificates = [r for r in resources if r.resource_type == AOP_CERTIFICATE]
    # The Google Cloud origin: HTTPS proxies (mutual TLS by a server TLS policy) behind Cloud Armor (the header).
    proxies = [r for r in resources if r.resource_type == GCP_HTTPS_PROXY]
    armor = [(policy, _armor_rules_of(policy, resources))
             for policy in resources if policy.resource_type == GCP_SECURITY_POLICY]
    gcp = bool(proxies or armor)
    armor_headers = any(_armor_headers(rule) for _, armor_rules in armor for rule in armor_rules)
    server_tls = [r for r in resources if r.resource_type == GCP_SERVER_TLS_POLICY]
    gcp_verifying = _gcp_verifying(proxies, resources, None)
    header_configured = bool(rules or rulesets or denying or armor_headers)
    mtls_configured = bool(verifying or gcp_verifying or server_tls or True in pulls_enabled or pull_certificates)
    if not (header_configured or mtls_configured):
        if _config(args).get("required"):
            report("origin authentication is off: no HTTPS listener denies by default or verifies client "
                   "certificates, no listener rule checks a secret header and the zone sends no client "
                   "certificate (the policy config requires origin authentication).")
        return
    for listener in listeners:
        if listener not in denying and listener not in verifying:
            report(f"HTTPS listener {listener.name!r} forwards by default and verifies no client certificate "
                   "although origin authentication is configured: it is not enforced.", listener.urn)
    if gcp and not header_configured:
        for proxy in proxies:
            if proxy not in gcp_verifying:
                report(f"HTTPS proxy {proxy.name!r} verifies no client certificate and no Cloud Armor policy "
                       "checks a secret header although origin authentication is configured: it is not enforced.",
                       proxy.urn)
    # An origin of the team's own (saas-domains:origin external): no listener or load balancer in the stack,
    # so only the zone's side can be judged here; the origin's checks are the team's (README).
    origin_outside = not (listeners or gcp or any(r.resource_type in LOAD_BALANCERS for r in resources))
    if header_configured:
        if origin_outside:
            if not rulesets:
                report(f"no Cloudflare ruleset in phase {HEADER_PHASE} sets a request header: the origin "
                       "would refuse every request.")
        elif listeners or not gcp:
            _check_secret_header(denying, verifying, rules, rulesets, report)
        if gcp:
            _check_gcp_secret_header(armor, rulesets, report)
    if mtls_configured:
        if gcp:
            _gcp_verifying(proxies, resources, report)
        if origin_outside:
            _check_zone_certificate(pulls_enabled, pull_certificates, report)
        else:
            _check_mutual_tls(verifying + gcp_verifying, pulls_enabled, pull_certificates, report,
                              gcp=gcp and not listeners)


def _check_secret_header(denying, verifying, rules, rulesets, report: ReportViolation) -> None:
    for listener in denying:
        if listener not in verifying and not any(_rule_is_on(rule, listener) for rule, _, _ in rules):
            report(f"HTTPS listener {listener.name!r} denies by default but no listener rule on it forwards "
                   "requests carrying the secret header: every request would be refused.", listener.urn)
    if not rulesets:
        report(f"no Cloudflare ruleset in phase {HEADER_PHASE} sets a request header: the ALB would refuse "
               "every request.")
    set_headers = {str(name).lower(): value for _, name, value in rulesets if name is not UNKNOWN}
    for rule, name, values in rules:
        if name is UNKNOWN or not rulesets:
            continue
        if name.lower() not in set_headers:
            report(f"listener rule {rule.name!r} checks header {name!r}, which no Cloudflare ruleset sets "
                   f"(they set: {', '.join(sorted(set_headers)) or 'nothing'}).", rule.urn)
            continue
        sent = set_headers[name.lower()]
        if not values:
            report(f"listener rule {rule.name!r} checks header {name!r} without values.", rule.urn)
        elif isinstance(sent, str) and UNKNOWN not in values and sent not in values:
            report(f"listener rule {rule.name!r} expects other values for header {name!r} than the Cloudflare "
                   "ruleset sends (values not shown: they are secret).", rule.urn)


def _armor_headers(rule: Any) -> set[str]:
    """The request headers a Cloud Armor rule's expression reads (Cloud Armor lower-cases their names)."""
    expression = _armor_expression(rule)
    return {name.lower() for name in _ARMOR_HEADER.findall(expression)} if isinstance(expression, str) else set()


def _armor_rules_of(policy: Any, resources: Sequence[Any]) -> list[Any]:
    """A Cloud Armor policy's rules: inline ones and separate SecurityPolicyRule resources on it."""
    rules = [rule for rule in _items(_get(policy.props, "rules")) if isinstance(rule, Mapping)]
    policies = [r for r in resources if r.resource_type == GCP_SECURITY_POLICY]
    for resource in resources:
        if resource.resource_type != GCP_SECURITY_POLICY_RULE:
            continue
        linked = _linked(resource, "securityPolicy", (GCP_SECURITY_POLICY,), resources)
        if any(p.urn == policy.urn for p in linked or []) or (linked is None and len(policies) == 1):
            rules.append(resource.props)
    return rules


def _priority(rule: Any) -> int | None:
    value = _get(rule, "priority")
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _ungated(rules: list[Any], header: str) -> list[Any]:
    """The rules that admit a request before anything has checked `header`."""
    gates = [_priority(rule) for rule in rules if _armor_denies(rule) and _get(rule, "preview") is not True
             and header in _armor_headers(rule) and _priority(rule) is not None]
    first_gate = min(gates, default=None)
    return [rule for rule in rules if _armor_admits(rule) and _priority(rule) is not None
            and header not in _armor_headers(rule) and (first_gate is None or _priority(rule) < first_gate)]


def _check_gcp_secret_header(armor: list[tuple[Any, list[Any]]], rulesets, report: ReportViolation) -> None:
    set_headers = {str(name).lower(): value for _, name, value in rulesets if name is not UNKNOWN}
    if not rulesets and any(_armor_headers(rule) for _, rules in armor for rule in rules):
        report(f"no Cloudflare ruleset in phase {HEADER_PHASE} sets a request header: the load balancer's Cloud "
               "Armor policy would refuse every request.")
        return
    if rulesets and not armor:
        report("a Cloudflare ruleset sets the secret header but the stack has no Cloud Armor policy to require it: "
               "origin authentication is not enforced.")
    for policy, rules in armor:
        checked = set().union(*(_armor_headers(rule) for rule in rules)) if rules else set()
        for name in sorted(checked - set(set_headers)):
            report(f"Cloud Armor policy {policy.name!r} checks header {name!r}, which no Cloudflare ruleset sets "
                   f"(they set: {', '.join(sorted(set_headers)) or 'nothing'}).", policy.urn)
        required = sorted(checked & set(set_headers))
        if set_headers and not required:
            report(f"Cloud Armor policy {policy.name!r} does not require the secret header "
                   f"{', '.join(sorted(set_headers))!r} that the Cloudflare ruleset sets: any Cloudflare account "
                   "reaches the application through Cloudflare's shared addresses.", policy.urn)
        for header in required:
            for rule in _ungated(rules, header):
                report(f"Cloud Armor policy {policy.name!r} rule (priority {_priority(rule)}) allows requests "
                       f"before any rule checks the secret header {header!r}: origin authentication is not "
                       "enforced (deny requests without it at a lower priority number, or check it in the allow "
                       "rule).", policy.urn)
            sent = set_headers[header]
            for rule in rules:
                expression = _armor_expression(rule)
                if (header in _armor_headers(rule) and isinstance(sent, str) and isinstance(expression, str)
                        and sent not in expression):
                    report(f"Cloud Armor policy {policy.name!r} rule (priority {_priority(rule)}) expects another "
                           f"value of header {header!r} than the Cloudflare ruleset sends (values not shown: they "
                           "are secret).", policy.urn)


def _gcp_verifying(proxies: list[Any], resources: Sequence[Any], report: ReportViolation | None) -> list[Any]:
    """HTTPS proxies whose server TLS policy rejects clients without a certificate of a configured trust config."""
    verifying = []
    for proxy in proxies:
        if _get(proxy.props, "serverTlsPolicy") is None:
            continue
        policies = _linked(proxy, "serverTlsPolicy", (GCP_SERVER_TLS_POLICY,), resources)
        if policies is None:  # cannot tell during a preview: give it the benefit of the doubt
            verifying.append(proxy)
            continue
        problems = []
        for policy in policies:
            mode = _get(policy.props, "mtlsPolicy", "clientValidationMode")
            if mode not in ("REJECT_INVALID", UNKNOWN):
                problems.append(f"server TLS policy {policy.name!r} has clientValidationMode {mode!r}, which lets "
                                "clients without a valid certificate through (use REJECT_INVALID)")
            if _get(policy.props, "mtlsPolicy", "clientValidationTrustConfig") is None:
                problems.append(f"server TLS policy {policy.name!r} names no clientValidationTrustConfig (the CA "
                                "whose client certificates it accepts)")
            for trust in _linked(policy, "mtlsPolicy", (GCP_TRUST_CONFIG,), resources) or []:
                anchors = [anchor for store in _items(_get(trust.props, "trustStores"))
                           for anchor in _items(_get(store, "trustAnchors"))]
                if _get(trust.props, "trustStores") is not UNKNOWN and not anchors:
                    problems.append(f"trust config {trust.name!r} holds no trust anchor")
        if problems and report is not None:
            for problem in problems:
                report(f"HTTPS proxy {proxy.name!r}: {problem}.", proxy.urn)
        if policies and not problems:
            verifying.append(proxy)
    return verifying


def _check_mutual_tls(verifying, pulls_enabled, pull_certificates, report: ReportViolation, *,
                      gcp: bool = False) -> None:
    if verifying and True not in pulls_enabled and UNKNOWN not in pulls_enabled:
        report(f"the {'load balancer' if gcp else 'ALB'} verifies client certificates but the zone does not "
               "enable Authenticated Origin Pulls (cloudflare.AuthenticatedOriginPullsSettings enabled = true): "
               "every request would be refused.", verifying[0].urn)
    if (True in pulls_enabled or pull_certificates) and not verifying:
        if gcp:
            report("the zone sends client certificates (Authenticated Origin Pulls) but no HTTPS proxy verifies "
                   "them (a server TLS policy with mtlsPolicy.clientValidationMode REJECT_INVALID and a trust "
                   "config): origin authentication is not enforced.")
        else:
            report("the zone sends client certificates (Authenticated Origin Pulls) but no HTTPS listener verifies "
                   "them (mutualAuthentication mode \"verify\"): origin authentication is not enforced.")
    _check_zone_certificate(pulls_enabled, pull_certificates, report)


def _check_zone_certificate(pulls_enabled, pull_certificates, report: ReportViolation) -> None:
    if True in pulls_enabled and not pull_certificates:
        report("Authenticated Origin Pulls is enabled without a certificate of the zone's own "
               "(cloudflare.AuthenticatedOriginPullsCertificate): Cloudflare then presents its shared "
               "certificate, which every Cloudflare zone presents, so it proves nothing about this zone.")


origin_auth_complete = StackValidationPolicy(
    name="origin-auth-complete",
    description="When origin authentication is configured, all of it is: with the secret header, the HTTPS "
                "listener denies by default, a listener rule forwards requests with the header and a "
                f"Cloudflare {HEADER_PHASE} ruleset sets it; with mutual TLS, the listener verifies client "
                "certificates and the zone enables Authenticated Origin Pulls with a certificate of its own. On "
                "Google Cloud: every Cloud Armor policy requires the header the ruleset sets before it allows "
                "anything, or the HTTPS proxy's server TLS policy rejects invalid client certificates "
                "(REJECT_INVALID, with a trust config).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "required": {"type": "boolean", "default": False,
                     "description": "Also fail a stack without any origin authentication (originAuth none)"},
    }),
    validate=_validate_origin_auth,
)
