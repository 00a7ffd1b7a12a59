"""Tests for infra.model.customers: every rule is checked by the text of its message.

Messages are the user interface of this module (a wrong file stops the whole
deployment), so most tests compare the full rendered problem:
``<file>:<line>: <entry>: <what is wrong>``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from infra.model.customers import (
    ALLOWED_BUNDLE_METHODS,
    ALLOWED_CERTIFICATE_AUTHORITIES,
    ALLOWED_MIN_TLS_VERSIONS,
    ALLOWED_SSL_METHODS,
    DEFAULT_MAX_HOSTNAMES,
    Customer,
    CustomersFileError,
    HostnameSsl,
    Problem,
    ValidationRules,
    load_customers,
    parse_customers,
)
from infra.model.customers.yaml_errors import explain_or_raise
from infra.model.hostnames import normalise_hostname

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "customers"
RULES = ValidationRules(zone="mailito.com")
WILDCARD_RULES = ValidationRules(zone="mailito.com", allow_wildcards=True)


def parse(text: str | bytes, rules: ValidationRules = RULES):
    if isinstance(text, str):
        text = textwrap.dedent(text)
    return parse_customers(text, rules)


def problems(text: str | bytes, rules: ValidationRules = RULES) -> list[str]:
    """All rendered problems of an invalid file, in the order the error gives them."""
    with pytest.raises(CustomersFileError) as info:
        parse(text, rules)
    return [str(problem) for problem in info.value.problems]


def only_problem(text: str | bytes, rules: ValidationRules = RULES) -> str:
    found = problems(text, rules)
    assert len(found) == 1, found
    return found[0]


def one_customer(hostnames: str = "[mail.mkdev.me]", extra: str = "") -> str:
    """A file with customer 'mkdev' on lines 2-3, plus optional extra lines."""
    return f"customers:\n  - id: mkdev\n    hostnames: {hostnames}\n{extra}"


# --------------------------------------------------------------------------
# Module boundaries and the happy path
# --------------------------------------------------------------------------


def test_importing_the_module_does_not_import_pulumi():
    code = "import sys, infra.model.customers; print('pulumi' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_full_model_merges_defaults_normalises_and_sorts():
    loaded = load_customers(FIXTURES / "valid.yaml", RULES)

    assert loaded.path == str(FIXTURES / "valid.yaml")
    assert loaded.customers == (
        Customer("mkdev", ("mail.mkdev.me", "xn--bcher-kva.example"), 8),
        Customer("acme", ("www.acme.com", "acme.com"), 13),
    )
    assert [(h.hostname, h.customer_id, h.line) for h in loaded.hostnames] == [
        ("acme.com", "acme", 14),
        ("mail.mkdev.me", "mkdev", 10),
        ("www.acme.com", "acme", 14),
        ("xn--bcher-kva.example", "mkdev", 11),
    ]
    acme, mkdev = loaded.hostnames[0], loaded.hostnames[1]
    # Defaults apply where the customer says nothing; explicit values everywhere.
    assert mkdev.ssl == HostnameSsl(method="http", min_tls_version="1.2", certificate_authority="google")
    assert mkdev.ssl.bundle_method == "ubiquitous" and mkdev.ssl.http2 == "on"
    # Customer ssl overrides defaults key by key; a bare `off` means "off".
    assert acme.ssl == HostnameSsl(
        method="txt",
        min_tls_version="1.3",
        certificate_authority="google",
        bundle_method="optimal",
        ciphers=("ECDHE-RSA-AES128-GCM-SHA256",),
        http2="off",
        early_hints="on",
    )
    # Metadata: customer merged over defaults, as sorted pairs.
    assert mkdev.metadata == (("plan", "pro"), ("region", "us"), ("tier", "gold"))
    assert mkdev.metadata_dict == {"plan": "pro", "region": "us", "tier": "gold"}
    assert acme.metadata == (("plan", "pro"), ("region", "eu"))
    # Origin: default, or the customer's own (normalised).
    assert mkdev.origin == "app.mailito.com"
    assert acme.origin == "eu.mailito.com"
    with pytest.raises(dataclasses.FrozenInstanceError):
        acme.hostname = "other.example"  # type: ignore[misc]


def test_minimal_file_gets_explicit_ssl_defaults_and_no_origin():
    (hostname,) = parse(one_customer()).hostnames
    assert hostname.ssl == HostnameSsl()
    assert hostname.ssl.type == "dv" and hostname.ssl.tls13 == "on" and hostname.ssl.early_hints == "off"
    assert hostname.metadata == () and hostname.origin is None


def test_an_explicit_empty_customer_list_is_valid():
    loaded = parse("defaults: {metadata: {plan: pro}}\ncustomers: []\n")
    assert loaded.customers == () and loaded.hostnames == ()


def test_utf8_bom_is_stripped_and_accepted():
    body = one_customer()
    assert parse(b"\xef\xbb\xbf" + body.encode()).customers[0].id == "mkdev"
    assert parse("\ufeff" + body).customers[0].id == "mkdev"


def test_explicit_core_tags_are_accepted():
    loaded = parse(one_customer("[!!str mail.mkdev.me]", "    metadata: {n: !!str 3}\n"))
    assert loaded.hostnames[0].metadata == (("n", "3"),)


def test_validation_rules_normalise_and_check_the_zone():
    assert ValidationRules(" MailIto.COM. ").zone == "mailito.com"
    assert ValidationRules("mailito.com").max_hostnames == DEFAULT_MAX_HOSTNAMES == 5000
    with pytest.raises(ValueError, match="invalid SaaS zone 'bad..zone': empty label"):
        ValidationRules("bad..zone")


def test_allowed_value_tuples():
    assert ALLOWED_SSL_METHODS == ("http", "txt")
    assert ALLOWED_MIN_TLS_VERSIONS == ("1.2", "1.3")
    assert ALLOWED_CERTIFICATE_AUTHORITIES == ("google", "lets_encrypt", "ssl_com")
    assert ALLOWED_BUNDLE_METHODS == ("ubiquitous", "optimal", "force")


# --------------------------------------------------------------------------
# Error rendering
# --------------------------------------------------------------------------


def test_problem_and_error_rendering():
    full = Problem("customers.yaml", 12, "customer 'mkdev' (entry 3)", "hostnames[1] 'foo..bar': empty label")
    assert str(full) == "customers.yaml:12: customer 'mkdev' (entry 3): hostnames[1] 'foo..bar': empty label"
    assert str(Problem("c.yaml", None, None, "file not found")) == "c.yaml: file not found"
    error = CustomersFileError("c.yaml", [full, Problem("c.yaml", 2, None, "x")])
    assert [p.line for p in error.problems] == [2, 12]
    assert isinstance(error, ValueError)
    assert str(error) == (
        "c.yaml: 2 problems, no change was made:\n"
        "  c.yaml:2: x\n"
        "  customers.yaml:12: customer 'mkdev' (entry 3): hostnames[1] 'foo..bar': empty label"
    )
    assert str(CustomersFileError("c.yaml", [full])).startswith("c.yaml: 1 problem, no change was made:\n")


def test_all_problems_of_a_file_are_reported_together_sorted_by_line():
    text = """\
        customers:
          - id: Bad_Id
            hostnames: [foo..bar]
          - id: acme
            hostnames: [x.mailito.com]
            ssl: {methd: http}
        defaults:
          metadata: {plan: 1}
        """
    with pytest.raises(CustomersFileError) as info:
        parse(text)
    assert str(info.value) == (
        "customers.yaml: 5 problems, no change was made:\n"
        "  customers.yaml:2: customer entry 1: id 'Bad_Id': has capital letters and an underscore; ids are "
        "lowercase letters, digits and hyphens: try `bad-id`\n"
        "  customers.yaml:3: customer entry 1: hostnames[0] 'foo..bar': empty label\n"
        "  customers.yaml:5: customer 'acme' (entry 2): hostnames[0] 'x.mailito.com': is inside the SaaS "
        "zone 'mailito.com'; customer hostnames must be outside the SaaS zone\n"
        "  customers.yaml:6: customer 'acme' (entry 2): unknown ssl key 'methd'; did you mean 'method'? "
        "(allowed: method, type, min_tls_version, certificate_authority, bundle_method, wildcard, ciphers, "
        "http2, tls13, early_hints)\n"
        "  customers.yaml:8: defaults: metadata.plan: expected a string, got an integer (1); "
        'quote it if you mean the text: "1"'
    )
    assert info.value.path == "customers.yaml"


def test_problems_use_the_path_as_given(tmp_path: Path):
    path = tmp_path / "cust.yaml"
    path.write_text("customers: {}\n")
    with pytest.raises(CustomersFileError) as info:
        load_customers(path, RULES)
    assert info.value.path == str(path)
    assert str(info.value.problems[0]) == f"{path}:1: 'customers' must be a list, got a mapping"


# --------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------


def test_missing_file(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CustomersFileError) as info:
        load_customers(missing, RULES)
    assert str(info.value) == f"{missing}: 1 problem, no change was made:\n  {missing}: file not found"


def test_unreadable_path_is_reported(tmp_path: Path):
    with pytest.raises(CustomersFileError) as info:
        load_customers(tmp_path, RULES)  # a directory
    assert str(info.value.problems[0]).startswith(f"{tmp_path}: cannot read the file: ")


@pytest.mark.parametrize("text", ["", "   \n\t\n", "# only\n# comments\n", "null\n", "~\n", "---\n"])
def test_empty_file(text: str):
    assert only_problem(text) == (
        "customers.yaml: the file is empty; it needs a 'customers' list (`customers: []` for none)"
    )


def test_not_utf8(tmp_path: Path):
    path = tmp_path / "customers.yaml"
    path.write_bytes(b"customers: []\n# caf\xe9\n")
    with pytest.raises(CustomersFileError) as info:
        load_customers(path, RULES)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:2: not valid UTF-8: byte 0xe9 at offset 19; save the file as UTF-8"
    ]


def test_utf16_is_reported_as_not_utf8():
    assert only_problem("customers: []\n".encode("utf-16")) == (
        "customers.yaml:1: not valid UTF-8 (it looks like UTF-16): byte 0xff at offset 0; save the file as UTF-8"
    )


def test_yaml_syntax_error_names_the_line_to_change():
    assert only_problem("customers:\n  - id: a\n    hostnames: [a.com\n") == (
        "customers.yaml:3: the `[` on line 3 is never closed: end the list with `]`, as in `hostnames: [a.com]`"
    )


@pytest.mark.parametrize("text", [
    "%YAML 1.3\n---\ncustomers: []\n",  # not a mistake a person makes by hand
    "customers:\n  - id: a\n    hostnames:\n      - a.example\x85b.example\n",  # NEL: YAML's lines are not the editor's
])
def test_a_yaml_error_without_an_explanation_keeps_the_parsers_words(text: str):
    assert only_problem(text).startswith("customers.yaml:")
    assert "YAML syntax error: " in only_problem(text)


def test_control_characters_are_reported_with_their_line():
    assert only_problem("customers: []\n# \x07\n") == (
        "customers.yaml:2: invalid character U+0007 in the file: control characters are not allowed"
    )


@pytest.mark.parametrize(
    ("text", "kind"), [("- a\n- b\n", "a list"), ("hello\n", "a string 'hello'"), ("42\n", "an integer (42)")]
)
def test_top_level_must_be_a_mapping(text: str, kind: str):
    assert only_problem(text) == (
        f"customers.yaml:1: the top level must be a mapping with a 'customers' key, got {kind}"
    )


def test_only_one_yaml_document():
    assert only_problem("customers: []\n---\ncustomers: []\n") == (
        "customers.yaml:2: a second YAML document starts here; only one is allowed"
    )


# --------------------------------------------------------------------------
# YAML structure: duplicates, anchors, tags, unknown keys
# --------------------------------------------------------------------------


def test_duplicate_keys_at_every_level():
    text = """\
        defaults:
          metadata: {plan: a, plan: b}
        customers:
          - id: mkdev
            hostnames: [a.example]
            ssl: {method: txt, method: http}
            id: other
        customers: []
        """
    assert problems(text) == [
        "customers.yaml:2: defaults: duplicate metadata key 'plan' (first at line 2); "
        "YAML would silently keep only the last one",
        "customers.yaml:6: customer 'mkdev' (entry 1): duplicate ssl key 'method' (first at line 6); "
        "YAML would silently keep only the last one",
        "customers.yaml:7: customer 'mkdev' (entry 1): duplicate key 'id' (first at line 4); "
        "YAML would silently keep only the last one",
        "customers.yaml:8: duplicate top-level key 'customers' (first at line 3); "
        "YAML would silently keep only the last one",
    ]


def test_anchors_and_aliases_are_rejected_and_attributed_to_the_entry():
    text = """\
        customers:
          - id: a
            hostnames: &names [a.example]
          - id: b
            hostnames: *names
        """
    assert problems(text) == [
        "customers.yaml:3: customer 'a' (entry 1): YAML anchors (&names) are not allowed; write the value out",
        "customers.yaml:5: customer 'b' (entry 2): YAML aliases (*names) are not allowed; write the value out",
    ]


def test_alias_bomb_is_rejected_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    start = time.perf_counter()
    found = problems("\n".join(lines) + "\ncustomers: []\n")
    assert time.perf_counter() - start < 1
    assert "customers.yaml:1: YAML anchors (&a0) are not allowed; write the value out" in found
    assert "customers.yaml:2: YAML aliases (*a0) are not allowed; write the value out" in found


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object/apply:os.system ['true']", "!!python/object/apply:os.system"),
        ("!!python/name:os.system ''", "!!python/name:os.system"),
        ("!custom mail.mkdev.me", "!custom"),
        ("!!set {a.example}", "!!set"),
        ("!!binary aGVsbG8=", "!!binary"),
    ],
)
def test_non_standard_tags_are_rejected(value: str, tag: str):
    assert only_problem(one_customer(value)) == (
        f"customers.yaml:3: customer 'mkdev' (entry 1): YAML tag {tag} is not allowed; use plain values"
    )


def test_a_core_tag_must_match_its_value():
    assert only_problem("customers: []\ndefaults: {origin: !!int abc}\n") == (
        "customers.yaml:2: defaults: 'abc' is not a valid !!int"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "customer: []\n",
            "customers.yaml:1: unknown top-level key 'customer'; did you mean 'customers'? "
            "(allowed: defaults, customers)",
        ),
        (
            "defaults: {metdata: {}}\ncustomers: []\n",
            "customers.yaml:1: defaults: unknown key 'metdata'; did you mean 'metadata'? "
            "(allowed: ssl, metadata, origin)",
        ),
        (
            one_customer(extra="    hostname: [b.example]\n"),
            "customers.yaml:4: customer 'mkdev' (entry 1): unknown key 'hostname'; did you mean 'hostnames'? "
            "(allowed: id, hostnames, ssl, metadata, origin)",
        ),
        (
            one_customer(extra="    ssl: {min_tls: '1.2'}\n"),
            "customers.yaml:4: customer 'mkdev' (entry 1): unknown ssl key 'min_tls'; did you mean "
            "'min_tls_version'? (allowed: method, type, min_tls_version, certificate_authority, "
            "bundle_method, wildcard, ciphers, http2, tls13, early_hints)",
        ),
        (
            one_customer(extra="    colour: blue\n"),
            "customers.yaml:4: customer 'mkdev' (entry 1): unknown key 'colour' "
            "(allowed: id, hostnames, ssl, metadata, origin)",
        ),
    ],
    ids=["top", "defaults", "customer", "ssl", "no-suggestion"],
)
def test_unknown_keys(text: str, expected: str):
    if "customers" not in text:
        assert problems(text) == [
            expected,
            "customers.yaml:1: missing required key 'customers' (write `customers: []` for none)",
        ]
    else:
        assert only_problem(text) == expected


def test_non_scalar_keys_are_rejected():
    assert only_problem("? [a, b]\n: 1\ncustomers: []\n") == (
        "customers.yaml:1: top-level keys must be plain strings, got a list"
    )


# --------------------------------------------------------------------------
# Types and required keys
# --------------------------------------------------------------------------


def test_customers_is_required_and_must_be_a_list():
    assert only_problem("defaults: {}\n") == (
        "customers.yaml:1: missing required key 'customers' (write `customers: []` for none)"
    )
    assert only_problem("customers:\n") == (
        "customers.yaml:1: 'customers' must be a list, got nothing (null) (write `customers: []` for none)"
    )


def test_customer_entry_must_be_a_mapping():
    assert only_problem("customers:\n  - mail.mkdev.me\n") == (
        "customers.yaml:2: customer entry 1: must be a mapping with 'id' and 'hostnames', got a string 'mail.mkdev.me'"
    )


def test_hostnames_must_be_a_list():
    assert only_problem(one_customer("mail.mkdev.me")) == (
        "customers.yaml:3: customer 'mkdev' (entry 1): 'hostnames' must be a list, got a string "
        "'mail.mkdev.me'; write it as a list: `hostnames: [mail.mkdev.me]`"
    )


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("no", "a boolean (no)"),
        ("123", "an integer (123)"),
        ("1.5", "a number (1.5)"),
        ("2024-01-01", "a date (2024-01-01)"),
    ],
)
def test_scalar_that_is_not_a_string_where_a_string_belongs(value: str, kind: str):
    assert only_problem(f"customers:\n  - id: {value}\n    hostnames: [a.example]\n") == (
        f"customers.yaml:2: customer entry 1: id: expected a string, got {kind}; "
        f'quote it if you mean the text: "{value}"'
    )


def test_null_where_a_string_belongs():
    assert only_problem(one_customer(extra="    origin:\n")) == (
        "customers.yaml:4: customer 'mkdev' (entry 1): origin: expected a string, got nothing (null)"
    )


def test_hostname_item_must_be_a_string():
    assert problems(one_customer("[a.example, 42, [b.example]]")) == [
        "customers.yaml:3: customer 'mkdev' (entry 1): hostnames[1]: expected a string, got an integer (42); "
        'quote it if you mean the text: "42"',
        "customers.yaml:3: customer 'mkdev' (entry 1): hostnames[2]: expected a string, got a list",
    ]


def test_metadata_must_map_strings_to_strings():
    extra = "    metadata:\n      tier: 3\n      yes: x\n      '': y\n      ok: fine\n"
    assert problems(one_customer(extra=extra)) == [
        "customers.yaml:5: customer 'mkdev' (entry 1): metadata.tier: expected a string, got an integer (3); "
        'quote it if you mean the text: "3"',
        "customers.yaml:6: customer 'mkdev' (entry 1): metadata key: expected a string, got a boolean (yes); "
        'quote it if you mean the text: "yes"',
        "customers.yaml:7: customer 'mkdev' (entry 1): metadata key: must not be empty",
    ]
    assert only_problem(one_customer(extra="    metadata: [a, b]\n")) == (
        "customers.yaml:4: customer 'mkdev' (entry 1): 'metadata' must be a mapping of strings to strings, "
        "got a list"
    )


def test_missing_id():
    assert only_problem("customers:\n  - hostnames: [a.example]\n") == (
        "customers.yaml:2: customer entry 1: missing required key 'id' (a stable slug such as 'acme')"
    )


def test_missing_or_empty_hostnames():
    assert problems("customers:\n  - id: a\n  - id: b\n    hostnames: []\n") == [
        "customers.yaml:2: customer 'a' (entry 1): missing required key 'hostnames' "
        "(a list of one or more hostnames)",
        "customers.yaml:4: customer 'b' (entry 2): 'hostnames' is empty; list at least one hostname",
    ]


# --------------------------------------------------------------------------
# Customer ids
# --------------------------------------------------------------------------


def test_duplicate_customer_ids_name_both_lines():
    text = "customers:\n  - id: acme\n    hostnames: [a.example]\n  - id: acme\n    hostnames: [b.example]\n"
    assert only_problem(text) == (
        "customers.yaml:4: customer 'acme' (entry 2): duplicate id 'acme': entry 1 at line 2 already uses it "
        "(ids must be unique)"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("MkDev", "has capital letters; ids are lowercase letters, digits and hyphens: try `mkdev`"),
        ("mk_dev", "has an underscore; ids are lowercase letters, digits and hyphens: try `mk-dev`"),
        ("mk.dev", "has '.'; ids are lowercase letters, digits and hyphens: try `mk-dev`"),
        ("-mkdev", "starts with a hyphen; ids are lowercase letters, digits and hyphens: try `mkdev`"),
        ("mkdev-", "ends with a hyphen; ids are lowercase letters, digits and hyphens: try `mkdev`"),
        ("a" * 64, f"is 64 characters long (at most 63); ids are lowercase letters, digits and hyphens: "
                   f"try `{'a' * 63}`"),
        ("", "is empty; ids are lowercase letters, digits and hyphens, such as `acme`"),
    ],
)
def test_id_must_be_a_dns_label(value: str, reason: str):
    text = f"customers:\n  - id: '{value}'\n    hostnames: [a.example]\n"
    assert only_problem(text) == f"customers.yaml:2: customer entry 1: id {value!r}: {reason}"


# --------------------------------------------------------------------------
# Hostnames
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mail.mkdev.me", "mail.mkdev.me"),
        ("  Mail.MKDEV.me. ", "mail.mkdev.me"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("faß.de", "xn--fa-hia.de"),  # non-transitional: ß is kept, not mapped to ss
        ("ＡＢＣ。example", "abc.example"),  # UTS-46 mapping: full-width letters and dot
        ("a--b.example", "a--b.example"),
        ("1password.com", "1password.com"),
    ],
)
def test_normalise_hostname(raw: str, expected: str):
    assert normalise_hostname(raw) == expected


def test_normalise_hostname_wildcards():
    assert normalise_hostname("*.Example.com", allow_wildcard=True) == "*.example.com"
    with pytest.raises(ValueError, match="wildcard hostnames are not allowed here"):
        normalise_hostname("*.example.com")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("foo..bar", "empty label"),
        ("a.example..", "empty label"),  # only one trailing dot is removed
        (".a.example", "empty label"),
        ("", "empty hostname"),
        ("-a.example", "label '-a' starts with a hyphen"),
        ("a-.example", "label 'a-' ends with a hyphen"),
        ("a_b.example", "label 'a_b' contains '_'; only letters, digits and hyphens are allowed"),
        ("a b.example", "write `ab.example`: remove the space"),
        ("a" * 64 + ".example", f"label '{'a' * 64}' is 64 octets long; at most 63 are allowed"),
        (".".join(["a" * 63] * 4), "255 characters long; at most 253 are allowed"),
        ("localhost", "needs at least two labels (like example.com)"),
        ("*.com", "needs at least two labels (like example.com)"),
        ("a.123", "last label '123' is all-numeric"),
        ("192.0.2.1", "an IP address, not a hostname"),
        ("2001:db8::1", "an IP address, not a hostname"),
        ("[2001:db8::1]", "an IP address, not a hostname"),
        ("a*.example.com", "'*' is only allowed as the whole leftmost label (as in *.example.com)"),
        ("a.*.example.com", "'*' is only allowed as the whole leftmost label (as in *.example.com)"),
        ("xn--zz.example", "label 'xn--zz' is not a valid IDNA A-label: Invalid A-label"),
        (
            "☃.example",
            "label '☃' is not a valid internationalised label: Codepoint U+2603 at position 1 of '☃' not allowed",
        ),
        (
            "a\u2028b.example",
            r"not a valid internationalised hostname: Codepoint U+2028 not allowed at position 2 in 'a\u2028b.example'",
        ),
        ("ü" * 64 + ".example", f"label '{'ü' * 64}' is longer than 63 octets"),
    ],
)
def test_hostname_rules(raw: str, reason: str):
    with pytest.raises(ValueError) as info:
        normalise_hostname(raw, allow_wildcard=True)
    assert str(info.value) == reason
    # In a file, the same reason is reported with the raw value (shortened if long).
    shown = repr(raw) if len(raw) <= 80 else repr(raw[:77] + "...")
    assert only_problem(one_customer(f"[{json.dumps(raw)}]")) == (
        f"customers.yaml:3: customer 'mkdev' (entry 1): hostnames[0] {shown}: {reason}"
    )


def test_long_values_are_shortened_in_messages():
    raw = "x" * 300 + ".example"
    (problem,) = problems(one_customer(f"[{raw}]"))
    assert problem.startswith(f"customers.yaml:3: customer 'mkdev' (entry 1): hostnames[0] '{'x' * 77}...': ")
    assert len(problem) < 300


@pytest.mark.parametrize(
    ("first", "second"),
    [("mail.mkdev.me", "Mail.MKDEV.me."), ("bücher.example", "xn--bcher-kva.example")],
)
def test_duplicate_hostnames_are_compared_after_normalisation(first: str, second: str):
    text = f"""\
        customers:
          - id: mkdev
            hostnames: [{first}]
          - id: acme
            hostnames:
              - other.example
              - {second}
        """
    normalised = normalise_hostname(first)
    assert only_problem(text) == (
        f"customers.yaml:7: customer 'acme' (entry 2): hostnames[1] {second!r}: hostname {normalised!r} "
        "is already declared at line 3 by customer 'mkdev' (entry 1)"
    )


def test_duplicate_hostname_within_one_customer():
    assert only_problem(one_customer("[a.example, A.example]")) == (
        "customers.yaml:3: customer 'mkdev' (entry 1): hostnames[1] 'A.example': hostname 'a.example' "
        "is already declared at line 3 by customer 'mkdev' (entry 1)"
    )


def test_hostnames_in_the_saas_zone_are_rejected():
    assert problems(one_customer("[mailito.com, x.MAILITO.com, notmailito.com]")) == [
        "customers.yaml:3: customer 'mkdev' (entry 1): hostnames[0] 'mailito.com': is the SaaS zone "
        "'mailito.com' itself; customer hostnames must be outside the SaaS zone",
        "customers.yaml:3: customer 'mkdev' (entry 1): hostnames[1] 'x.MAILITO.com': is inside the SaaS zone "
        "'mailito.com'; customer hostnames must be outside the SaaS zone",
    ]


def test_wildcard_hostnames_need_the_enterprise_setting():
    assert only_problem(one_customer("['*.mkdev.me']", "    ssl: {method: txt}\n")) == (
        "customers.yaml:3: customer 'mkdev' (entry 1): hostnames[0] '*.mkdev.me': wildcard hostnames are an "
        "Enterprise feature and are disabled; enable them with the stack setting saas-domains:allowWildcards"
    )


def test_wildcard_hostnames_need_txt_validation():
    assert only_problem(one_customer("['*.mkdev.me']"), WILDCARD_RULES) == (
        "customers.yaml:3: customer 'mkdev' (entry 1): hostnames[0] '*.mkdev.me': a wildcard hostname requires "
        "ssl.method 'txt' (HTTP validation cannot validate wildcard certificates), but the method is 'http'"
    )
    loaded = parse(one_customer("['*.mkdev.me']", "    ssl: {method: txt}\n"), WILDCARD_RULES)
    assert loaded.hostnames[0].hostname == "*.mkdev.me"


def test_ssl_wildcard_needs_txt_validation():
    assert only_problem(one_customer(extra="    ssl: {wildcard: true}\n")) == (
        "customers.yaml:4: customer 'mkdev' (entry 1): ssl.wildcard: true requires ssl.method 'txt' "
        "(HTTP validation cannot validate wildcard certificates), but the method is 'http'"
    )
    assert parse(one_customer(extra="    ssl: {wildcard: true, method: txt}\n")).hostnames[0].ssl.wildcard is True


def test_ssl_wildcard_in_defaults_is_reported_once_at_the_defaults():
    text = """\
        defaults:
          ssl: {wildcard: true}
        customers:
          - {id: a, hostnames: [a.example]}
          - {id: b, hostnames: [b.example]}
          - {id: c, hostnames: [c.example], ssl: {method: txt}}
        """
    assert only_problem(text) == (
        "customers.yaml:2: defaults: ssl.wildcard: true requires ssl.method 'txt' "
        "(HTTP validation cannot validate wildcard certificates), but the method is 'http'"
    )


# --------------------------------------------------------------------------
# Errors for people who are not engineers: what to change, every problem of an entry at once
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("https://app.example.com", "write `app.example.com`: remove `https://`"),
        ("http://app.example.com", "write `app.example.com`: remove `http://`"),
        ("app.example.com/login", "write `app.example.com`: remove the path `/login`"),
        ("app.example.com/", "write `app.example.com`: remove the `/` at the end"),
        ("app.example.com:8443", "write `app.example.com`: remove the port `:8443`"),
        ("app.example.com?ref=mail", "write `app.example.com`: remove `?ref=mail`"),
        ("app.example.com#pricing", "write `app.example.com`: remove `#pricing`"),
        ("https://App.Example.com:8443/login?next=%2F#top",
         "write `App.Example.com`: remove `https://`, the port `:8443`, the path `/login`, `?next=%2F` and `#top`"),
        ("https://user:secret@app.example.com/", "write `app.example.com`: remove `https://`, `user:secret@` and the "
                                                  "`/` at the end"),
        ("someone@example.com", "write `example.com`: remove `someone@` (an e-mail address, not a hostname)"),
        ("mailto:someone@example.com", "write `example.com`: remove `mailto:` and `someone@` (an e-mail address, "
                                       "not a hostname)"),
        ('"app.example.com"', "write `app.example.com`: remove the quotes around it"),
        ("\u201capp.example.com\u201d", "write `app.example.com`: remove the quotes around it"),
        ("<app.example.com>", "write `app.example.com`: remove the `<` and `>` around it"),
        ("app.example.com,", "write `app.example.com`: remove the `,` at the end"),
        ("app .example.com", "write `app.example.com`: remove the space"),
        ("https://app.example.com./", "write `app.example.com`: remove `https://` and the `/` at the end"),
        ("https://bücher.example/", "write `bücher.example`: remove `https://` and the `/` at the end"),
        ("https://*.example.com", "write `*.example.com`: remove `https://`"),
        # What is left is checked too, and named when it still is not a hostname.
        ("http://192.0.2.1/", "remove `http://` and the `/` at the end; the rest, '192.0.2.1', is still not a "
                              "hostname: an IP address, not a hostname"),
        ("https://app_1.example.com", "remove `https://`; the rest, 'app_1.example.com', is still not a hostname: "
                                      "label 'app_1' contains '_'; only letters, digits and hyphens are allowed"),
    ],
)
def test_a_pasted_hostname_says_what_to_remove(raw: str, reason: str):
    with pytest.raises(ValueError) as info:
        normalise_hostname(raw, allow_wildcard=True)
    assert str(info.value) == reason
    assert only_problem(one_customer(f"[{json.dumps(raw, ensure_ascii=False)}]"), WILDCARD_RULES) == (
        f"customers.yaml:3: customer 'mkdev' (entry 1): hostnames[0] {raw!r}: {reason}"
    )


@pytest.mark.parametrize(("raw", "expected"), [("App.Example.COM.", "app.example.com"),
                                               (" app.example.com ", "app.example.com"),
                                               ("bücher.example", "xn--bcher-kva.example"),
                                               ("*.Example.com", "*.example.com")])
def test_valid_hostnames_are_normalised_as_before(raw: str, expected: str):
    """The explanations run only once a value is refused: what is accepted, and how, is unchanged."""
    assert normalise_hostname(raw, allow_wildcard=True) == expected


def test_an_over_indented_hostname_merged_into_the_one_above_is_two_hostnames():
    text = """\
        customers:
          - id: initrode
            hostnames:
              - mail.example.com
                - status.example.com
        """
    assert only_problem(text) == (
        "customers.yaml:4: customer 'initrode' (entry 1): hostnames[0] 'mail.example.com - status.example.com': "
        "looks like two hostnames in one value: line 5 is indented more than line 4, so YAML read them as one; "
        "put each on its own line starting with `- ` at the same indentation as line 4"
    )


@pytest.mark.parametrize(
    ("hostnames", "line", "reason"),
    [
        ("\n      - a.example.com b.example.com", 4,
         "'a.example.com b.example.com': looks like two hostnames in one value: put each on its own line starting "
         "with `- `, at the same indentation as line 4"),
        ("\n      - a.example.com\n        b.example.com\n        c.example.com", 4,
         "'a.example.com b.example.com c.example.com': looks like three hostnames in one value: lines 5-6 are "
         "indented more than line 4, so YAML read them as one; put each on its own line starting with `- ` at the "
         "same indentation as line 4"),
        (" [a.example.com b.example.com]", 3,
         "'a.example.com b.example.com': looks like two hostnames in one value: separate them with commas: "
         "`a.example.com, b.example.com`"),
        ("\n      - a.example.com - status", 4,
         "'a.example.com - status': looks like two hostnames in one value: put each on its own line starting "
         "with `- `, at the same indentation as line 4; 'status': needs at least two labels (like example.com)"),
    ],
    ids=["one-line", "three-lines", "flow", "one-of-them-wrong"],
)
def test_several_hostnames_in_one_value(hostnames: str, line: int, reason: str):
    text = f"customers:\n  - id: mkdev\n    hostnames:{hostnames}\n"
    assert only_problem(text) == f"customers.yaml:{line}: customer 'mkdev' (entry 1): hostnames[0] {reason}"


def test_hostnames_written_as_one_string_are_suggested_as_a_list():
    assert only_problem("customers:\n  - id: mkdev\n    hostnames: a.example.com\n      - b.example.com\n") == (
        "customers.yaml:3: customer 'mkdev' (entry 1): 'hostnames' must be a list, got a string "
        "'a.example.com - b.example.com'; write it as a list: `hostnames: [a.example.com, b.example.com]`"
    )
    # What is wrong with the hostname itself comes in the same message, not on the next run.
    assert only_problem("customers:\n  - id: mkdev\n    hostnames: https://app.example.com/\n") == (
        "customers.yaml:3: customer 'mkdev' (entry 1): 'hostnames' must be a list, got a string "
        "'https://app.example.com/'; write it as a list: `hostnames: [app.example.com]`; "
        "'https://app.example.com/': write `app.example.com`: remove `https://` and the `/` at the end"
    )


def test_an_id_reports_every_broken_rule_and_suggests_one():
    assert only_problem("customers:\n  - id: Initrode Inc\n    hostnames: [app.initrode.com]\n") == (
        "customers.yaml:2: customer entry 1: id 'Initrode Inc': has capital letters and a space; ids are lowercase "
        "letters, digits and hyphens: try `initrode-inc`"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-Initrode_Inc & Co-", "has capital letters, spaces, an underscore and '&', starts with a hyphen, ends with a "
                                "hyphen; ids are lowercase letters, digits and hyphens: try `initrode-inc-co`"),
        ("Société Générale", "has capital letters, a space and 'é'; ids are lowercase letters, digits and hyphens: "
                             "try `societe-generale`"),
        ("STRAßE", "has capital letters and 'ß'; ids are lowercase letters, digits and hyphens: try `strasse`"),
        ("почта", "has 'п', 'о', 'ч' and other characters; ids are lowercase letters, digits and hyphens, "
                  "such as `acme`"),
        ("A" * 70, f"has capital letters, is 70 characters long (at most 63); ids are lowercase letters, digits "
                   f"and hyphens: try `{'a' * 63}`"),
    ],
)
def test_an_id_with_several_broken_rules(value: str, reason: str):
    text = f"customers:\n  - id: '{value}'\n    hostnames: [a.example]\n"
    assert only_problem(text) == f"customers.yaml:2: customer entry 1: id {value!r}: {reason}"


def test_a_suggested_id_is_never_one_the_file_already_uses():
    text = """\
        customers:
          - id: Initrode Inc
            hostnames: [app.initrode.com]
          - id: initrode-inc
            hostnames: [www.initrode.com]
          - id: initrode-inc-2
            hostnames: [shop.initrode.com]
        """
    assert only_problem(text) == (
        "customers.yaml:2: customer entry 1: id 'Initrode Inc': has capital letters and a space; ids are lowercase "
        "letters, digits and hyphens: try `initrode-inc-3` (`initrode-inc` is the id of entry 2; if this is the "
        "same customer, add the hostnames there)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # a key indented less than its siblings (libyaml: "did not find expected '-' indicator")
            "customers:\n  - id: initrode\n    hostnames:\n      - app.initrode.com\n   ssl: {method: txt}\n",
            "customers.yaml:5: line 5 is indented differently from line 3: indent `ssl:` by 4 spaces, like "
            "`hostnames:` on line 3 (it has 3 spaces)",
        ),
        (  # a key indented more, after a list (libyaml: "did not find expected key, while parsing a block mapping")
            "customers:\n  - id: initrode\n    hostnames:\n      - app.initrode.com\n     ssl: {method: txt}\n",
            "customers.yaml:5: line 5 is indented differently from line 3: indent `ssl:` by 4 spaces, like "
            "`hostnames:` on line 3 (it has 5 spaces)",
        ),
        (  # a key indented more, after a value (libyaml: "mapping values are not allowed in this context")
            "customers:\n  - id: initrode\n     hostnames: [app.initrode.com]\n",
            "customers.yaml:3: line 3 is indented differently from line 2: indent `hostnames:` by 4 spaces, like "
            "`id:` on line 2 (it has 5 spaces)",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames:\n      - app.initrode.com\n     - www.initrode.com\n",
            "customers.yaml:5: line 5 is indented differently from line 4: put its `-` under the `-` of line 4, "
            "6 spaces in (it has 5 spaces)",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames:\n      - app.initrode.com\n    - www.initrode.com\n",
            "customers.yaml:5: a `-` list item at line 5 is not under `hostnames:`: put its `-` under the `-` of "
            "line 4, 6 spaces in (it has 4 spaces)",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames: [app.initrode.com]\n    - www.initrode.com\n",
            "customers.yaml:4: a `-` list item at line 4 is not under `hostnames:`: line 3 already gives "
            "`hostnames` a value (`[app.initrode.com]`); list every item as a `- ` line indented under "
            "`hostnames:`, or all of them inside one `[...]`",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames: [a.example]\n   - id: globex\n     hostnames: [b.example]\n",
            "customers.yaml:4: line 4 is indented differently from line 2: put its `-` under the `-` of line 2, "
            "2 spaces in (it has 3 spaces)",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames: [a.example]\n  id: globex\n  hostnames: [b.example]\n",
            "customers.yaml:4: line 4 starts a new customer entry without `- `: write `- id: globex`, its `-` under "
            "the `-` of line 2",
        ),
        (
            "defaults: {}\n customers: []\n",
            "customers.yaml:2: line 2 is indented differently from line 1: do not indent `customers:`, like "
            "`defaults:` on line 1 (it has 1 space)",
        ),
        (
            "customers:\n  - id: initrode\n\thostnames: [a.example]\n",
            "customers.yaml:3: line 3 has a tab: use spaces (YAML does not allow tabs for indentation)",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames: [a.example, b.example\n  - id: globex\n",
            "customers.yaml:3: the `[` on line 3 is never closed: end the list with `]`, as in "
            "`hostnames: [a.example, b.example]`",
        ),
        (
            "customers:\n  - id: 'initrode\n    hostnames: [a.example]\n",
            "customers.yaml:2: the `'` before `initrode` on line 2 is never closed: write `- id: 'initrode'`",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames: ['a.example, b.example]\n",
            "customers.yaml:3: the `'` before `a.example` on line 3 is never closed: write "
            "`hostnames: ['a.example', b.example]`",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames: [a.example]]\n",
            "customers.yaml:3: the `]` on line 3 closes nothing: remove it",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames: - a.example\n",
            "customers.yaml:3: a `- ` item cannot follow `hostnames:` on the same line (line 3): write "
            "`hostnames: [a.example]`, or put each `- ` item on its own line, indented under `hostnames:`",
        ),
        (
            "customers:\n  - id:initrode\n    hostnames: [a.example]\n",
            "customers.yaml:2: line 2 needs a space after the `:`: write `- id: initrode`",
        ),
        (
            "customers:\n  -id: initrode\n    hostnames: [a.example]\n",
            "customers.yaml:2: line 2 needs a space after the `-`: write `- id: initrode`",
        ),
        (
            "customers:\n  - id: initrode: acme\n    hostnames: [a.example]\n",
            "customers.yaml:2: line 2 has a second `: ` in the value of `id:`: remove it, or put the value in "
            "quotes: `- id: 'initrode: acme'`",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames:\n      - *.initrode.com\n",
            "customers.yaml:4: the value `*.initrode.com` on line 4 starts with `*`, so it must be quoted: "
            "write `'*.initrode.com'`",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames: [`a.example`]\n",
            "customers.yaml:3: remove the backticks around `a.example` on line 3",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames: ['a.example' b.example]\n",
            "customers.yaml:3: a `,` or `]` belongs before `b.example]` on line 3: separate the items of a `[...]` "
            "list with commas",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames: [a.example, , b.example]\n",
            "customers.yaml:3: line 3 has two commas with nothing between them: remove one `,`",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames\n    ssl: {}\n",
            "customers.yaml:3: line 3 needs a `:` after `hostnames`: write `hostnames:`",
        ),
        (  # the first key of a block stands out: it is the one to move, not the lines after it
            "customers:\n  - id: initrode\n    hostnames: [a.example]\n    ssl:\n       method: txt\n"
            "      min_tls_version: '1.3'\n      http2: 'off'\n",
            "customers.yaml:5: line 5 is indented differently from lines 6-7: indent `method:` by 6 spaces, like "
            "`min_tls_version:` on line 6 (it has 7 spaces)",
        ),
        (
            "customers:\n  - id: initrode\n    hostnames:\n       - a.example\n      - b.example\n      - c.example\n",
            "customers.yaml:4: line 4 is indented differently from lines 5-6: put its `-` under the `-` of line 5, "
            "6 spaces in (it has 7 spaces)",
        ),
        (
            "customers:\n - id: initrode\n    hostnames: [a.example]\n    ssl: {method: txt}\n"
            "  - id: globex\n    hostnames: [b.example]\n",
            "customers.yaml:2: line 2 is indented differently from lines 3-4: indent its `-` by 2 spaces so that "
            "`id:` lines up with `hostnames:` on line 3 (it has 1 space)",
        ),
        (  # the quote is closed by the next one, lines later
            'customers:\n  - id: "initrode\n    hostnames: [a.example]\n  - id: "globex"\n    hostnames: [b.example]\n',
            'customers.yaml:2: the `"` before `initrode` on line 2 is never closed: write `- id: "initrode"`',
        ),
    ],
    ids=["key-less", "key-more-after-list", "key-more-after-value", "item-less", "item-not-under-its-key",
         "item-after-a-value", "entry-more", "entry-without-dash", "top-level-key", "tab", "unclosed-bracket",
         "unclosed-quote", "unclosed-quote-in-brackets", "extra-bracket", "item-after-its-key",
         "no-space-after-colon", "no-space-after-dash", "second-colon", "unquoted-wildcard", "backticks",
         "missing-comma", "empty-item", "missing-colon", "first-key-of-a-block", "first-item-of-a-list",
         "first-key-of-an-entry", "quote-closed-lines-later"],
)
def test_yaml_structure_errors_say_what_to_change(text: str, expected: str):
    assert only_problem(text) == expected


def test_every_problem_of_an_entry_is_reported_at_once():
    text = """\
        customers:
          - id: Initrode Inc
            hostnames: [https://app.initrode.com]
            colour: blue
        """
    assert problems(text) == [
        "customers.yaml:2: customer entry 1: id 'Initrode Inc': has capital letters and a space; ids are lowercase "
        "letters, digits and hyphens: try `initrode-inc`",
        "customers.yaml:3: customer entry 1: hostnames[0] 'https://app.initrode.com': write `app.initrode.com`: "
        "remove `https://`",
        "customers.yaml:4: customer entry 1: unknown key 'colour' (allowed: id, hostnames, ssl, metadata, origin)",
    ]


def test_a_file_with_several_broken_entries_reports_all_their_problems():
    with pytest.raises(CustomersFileError) as info:
        load_customers(PROJECT_ROOT / "tests" / "fixtures" / "hostile" / "several-broken-entries.yaml", RULES)
    path = info.value.path
    assert str(info.value).replace(path, "f.yaml") == (
        "f.yaml: 10 problems, no change was made:\n"
        "  f.yaml:3: customer entry 1: id 'Initrode Inc': has capital letters and a space; ids are lowercase "
        "letters, digits and hyphens: try `initrode-inc`\n"
        "  f.yaml:5: customer entry 1: hostnames[0] 'https://app.initrode.com': write `app.initrode.com`: "
        "remove `https://`\n"
        "  f.yaml:6: customer entry 1: unknown key 'colour' (allowed: id, hostnames, ssl, metadata, origin)\n"
        "  f.yaml:7: customer entry 2: id 'globex_corp': has an underscore; ids are lowercase letters, digits and "
        "hyphens: try `globex-corp`\n"
        "  f.yaml:7: customer entry 2: missing required key 'hostnames' (a list of one or more hostnames)\n"
        "  f.yaml:8: customer entry 2: unknown key 'hostname'; did you mean 'hostnames'? (allowed: id, hostnames, "
        "ssl, metadata, origin)\n"
        "  f.yaml:9: customer entry 3: id 'umbrella-': ends with a hyphen; ids are lowercase letters, digits and "
        "hyphens: try `umbrella`\n"
        "  f.yaml:10: customer entry 3: hostnames[0] 'shop.umbrella.com/cart': write `shop.umbrella.com`: remove "
        "the path `/cart`\n"
        "  f.yaml:10: customer entry 3: hostnames[1] 'support@umbrella.com': write `umbrella.com`: remove "
        "`support@` (an e-mail address, not a hostname)\n"
        "  f.yaml:11: customer entry 3: unknown ssl key 'methd'; did you mean 'method'? (allowed: method, type, "
        "min_tls_version, certificate_authority, bundle_method, wildcard, ciphers, http2, tls13, early_hints)"
    )


def test_explaining_yaml_errors_never_fails_on_mutated_files():
    """The explanations read lines around the error; on seeded mutations of a valid file they must give a
    line and printable words, or nothing (the parser's words), and never raise."""
    source = (FIXTURES / "valid.yaml").read_text()
    alphabet = "[]{}:,-'\"#\n \t.`*&|>%@!?x"
    generator = random.Random(19)
    explained = 0
    for _ in range(1500):
        data = list(source)
        for _ in range(generator.randint(1, 3)):
            position = generator.randrange(len(data))
            if generator.random() < 0.5:
                data[position] = generator.choice(alphabet)
            else:
                data.insert(position, generator.choice(alphabet))
        text = "".join(data)
        try:
            list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
        except yaml.MarkedYAMLError as error:
            result = explain_or_raise(text, error)
            if result is not None:
                explained += 1
                line, message = result
                assert 1 <= line <= text.count("\n") + 2 and message.isprintable(), (text, result)
        except yaml.YAMLError:
            pass
    assert explained > 100


# --------------------------------------------------------------------------
# Origin
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "reason"),
    [
        ("eu.example.com", "must be a proxied record inside the SaaS zone 'mailito.com'"),
        ("Mailito.com.", "is the SaaS zone's apex; a custom origin must be a proxied record inside 'mailito.com', "
                         "such as eu.mailito.com"),
        ("'*.mailito.com'", "wildcard hostnames are not allowed here"),
        ("eu..mailito.com", "empty label"),
        ("10.0.0.1", "an IP address, not a hostname"),
    ],
)
def test_origin_must_be_a_hostname_in_the_zone(origin: str, reason: str):
    raw = origin.strip("'")
    assert only_problem(one_customer(extra=f"    origin: {origin}\n")) == (
        f"customers.yaml:4: customer 'mkdev' (entry 1): origin {raw!r}: {reason}"
    )


def test_origin_in_defaults_is_checked_too():
    assert only_problem("defaults:\n  origin: app.example.com\ncustomers: []\n") == (
        "customers.yaml:2: defaults: origin 'app.example.com': must be a proxied record inside the SaaS zone "
        "'mailito.com'"
    )


def test_origin_inside_the_zone_is_normalised():
    assert parse(one_customer(extra="    origin: EU.Mailito.com.\n")).hostnames[0].origin == "eu.mailito.com"


@pytest.mark.parametrize("method", ["email", "cname"])
def test_retired_dcv_methods_are_refused_with_the_reason(method: str):
    assert only_problem(one_customer(extra=f"    ssl: {{method: {method}}}\n")) == (
        f"customers.yaml:4: customer 'mkdev' (entry 1): ssl.method: {method!r} validation is retired: Cloudflare "
        "dropped e-mail and CNAME DCV with DigiCert; use http (the default) or txt"
    )


# --------------------------------------------------------------------------
# ssl values
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "allowed"),
    [
        ("method: dns", "'http', 'txt'"),
        ("type: ov", "'dv'"),
        ("certificate_authority: digicert", "'google', 'lets_encrypt', 'ssl_com' or null (let Cloudflare choose)"),
        ("bundle_method: fastest", "'ubiquitous', 'optimal', 'force'"),
        ("http2: maybe", "'on', 'off'"),
        ("tls13: zrtt", "'on', 'off'"),
        ("early_hints: soon", "'on', 'off'"),
        ("min_tls_version: '1.4'", "'1.2', '1.3'"),
    ],
)
def test_ssl_values_must_be_allowed(setting: str, allowed: str):
    key, value = setting.split(": ")
    assert only_problem(one_customer(extra=f"    ssl: {{{setting}}}\n")) == (
        f"customers.yaml:4: customer 'mkdev' (entry 1): ssl.{key}: {value.strip(chr(39))!r} is not allowed; "
        f"use one of {allowed}"
    )


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_min_tls_version_below_the_project_minimum(version: str):
    assert only_problem(one_customer(extra=f"    ssl: {{min_tls_version: '{version}'}}\n")) == (
        f"customers.yaml:4: customer 'mkdev' (entry 1): ssl.min_tls_version: '{version}': TLS {version} is "
        "below the project's minimum of TLS 1.2; use \"1.2\" or \"1.3\""
    )


def test_min_tls_version_written_as_a_number_must_be_quoted():
    text = """\
        defaults:
          ssl: {min_tls_version: 1.3}
        customers:
          - {id: a, hostnames: [a.example], ssl: {min_tls_version: 1.0}}
        """
    assert problems(text) == [
        'customers.yaml:2: defaults: ssl.min_tls_version: 1.3 is a YAML number, not a string; quote it: "1.3"',
        "customers.yaml:4: customer 'a' (entry 1): ssl.min_tls_version: 1.0 is a YAML number, not a string; "
        "TLS 1.0 is below the project's minimum of TLS 1.2; use \"1.2\" or \"1.3\"",
    ]


def test_ssl_wildcard_and_ciphers_types():
    extra = "    ssl:\n      wildcard: 'yes'\n      ciphers: [AES128-SHA, 3, '']\n"
    assert problems(one_customer(extra=extra)) == [
        "customers.yaml:5: customer 'mkdev' (entry 1): ssl.wildcard: expected true or false, got a string 'yes'",
        "customers.yaml:6: customer 'mkdev' (entry 1): ssl.ciphers[1]: expected a string, got an integer (3); "
        'quote it if you mean the text: "3"',
        "customers.yaml:6: customer 'mkdev' (entry 1): ssl.ciphers[2]: must not be empty",
    ]
    assert only_problem(one_customer(extra="    ssl: {ciphers: []}\n")) == (
        "customers.yaml:4: customer 'mkdev' (entry 1): ssl.ciphers: the list is empty; "
        "leave the key out to use Cloudflare's defaults"
    )


def test_ssl_must_be_a_mapping():
    assert only_problem(one_customer(extra="    ssl: txt\n")).startswith(
        "customers.yaml:4: customer 'mkdev' (entry 1): 'ssl' must be a mapping of 'method', 'type', "
    )


def test_bare_on_off_are_read_as_on_off_but_other_booleans_are_not():
    loaded = parse(one_customer(extra="    ssl: {http2: off, tls13: On, early_hints: on}\n"))
    assert (loaded.hostnames[0].ssl.http2, loaded.hostnames[0].ssl.tls13) == ("off", "on")
    assert loaded.hostnames[0].ssl.early_hints == "on"
    assert only_problem(one_customer(extra="    ssl: {http2: true}\n")) == (
        "customers.yaml:4: customer 'mkdev' (entry 1): ssl.http2: expected \"on\" or \"off\", got a boolean (true)"
    )


def test_certificate_authority_null_lets_cloudflare_choose():
    text = """\
        defaults:
          ssl: {certificate_authority: google}
        customers:
          - {id: a, hostnames: [a.example], ssl: {certificate_authority: null}}
        """
    assert parse(text).hostnames[0].ssl.certificate_authority is None


# --------------------------------------------------------------------------
# Hostname cap
# --------------------------------------------------------------------------


def test_more_hostnames_than_the_cap():
    rules = ValidationRules("mailito.com", max_hostnames=2)
    text = "customers:\n  - {id: a, hostnames: [a.example, b.example]}\n  - {id: b, hostnames: [c.example]}\n"
    assert only_problem(text, rules) == (
        "customers.yaml:2: 3 hostnames in total is more than the cap of 2; "
        "raise the stack setting saas-domains:maxHostnames if this is intended"
    )
    assert len(parse(text, ValidationRules("mailito.com", max_hostnames=3)).hostnames) == 3


# --------------------------------------------------------------------------
# Hostile input: only CustomersFileError, and quickly
# --------------------------------------------------------------------------

HOSTILE = {
    "deep flow nesting": "customers: " + "[" * 100_000 + "]" * 100_000,
    "deep unclosed nesting": "customers: " + "{a: " * 50_000,
    "deep block nesting": "customers:\n" + "".join(" " * i + "- \n" for i in range(0, 2000, 2)),
    "huge hostname": "customers:\n  - {id: a, hostnames: ['" + "ü" * 1_000_000 + ".example']}\n",
    "huge key": "customers: []\n" + "k" * 200_000 + ": 1\n",
    "huge integer": "customers:\n  - {id: " + "9" * 100_000 + ", hostnames: [a.example]}\n",
    "nul byte": "customers: []\x00\n",
    "lone surrogate": "customers: ['\udc80']\n",
    "python object": "!!python/object/new:os.system [echo]\n",
    "tagged root sequence": "!!seq [a]\n",
    "merge key": "customers:\n  - <<: {id: a}\n    hostnames: [a.example]\n",
    "complex keys": "? {a: b}\n: c\ncustomers: []\n",
    "many bad entries": "customers:\n" + "  - 1\n" * 20_000,
    "tabs": "customers:\n\t- a\n",
    "control chars": b"customers: [\x1b[31m]\n",
    "invalid utf8 everywhere": bytes(range(256)),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_raises_only_customers_file_error(text: str | bytes):
    start = time.perf_counter()
    with pytest.raises(CustomersFileError) as info:
        parse_customers(text, RULES)
    assert time.perf_counter() - start < 2
    assert info.value.problems
    assert all(isinstance(p, Problem) for p in info.value.problems)
    str(info.value)


def test_random_mutations_never_raise_anything_else():
    """Seeded fuzzing of a valid file: every outcome is a model or a CustomersFileError."""
    source = (FIXTURES / "valid.yaml").read_bytes()
    alphabet = b"[]{}:,-?&*!|>'\"%@`#\n \t.\\x\xc3\xbc\xff0a~"
    generator = random.Random(20240601)
    outcomes = {"valid": 0, "invalid": 0}
    for _ in range(1500):
        data = bytearray(source)
        for _ in range(generator.randint(1, 3)):
            position = generator.randrange(len(data))
            operation = generator.random()
            if operation < 0.4:
                data[position] = generator.choice(alphabet)
            elif operation < 0.7:
                data.insert(position, generator.choice(alphabet))
            else:
                del data[position]
        try:
            parse_customers(bytes(data), WILDCARD_RULES)
            outcomes["valid"] += 1
        except CustomersFileError as error:
            str(error)
            outcomes["invalid"] += 1
    assert outcomes["valid"] and outcomes["invalid"]


def test_os_pathlike_is_accepted(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text(one_customer())
    assert load_customers(os.fspath(path), RULES).customers[0].id == "mkdev"
    assert load_customers(path, RULES).path == str(path)


@pytest.mark.parametrize(("hostname", "scripts"), [
    ("p\u0430ypal.com", "Cyrillic and Latin"),  # a Cyrillic 'а' inside a Latin word
    ("xn--pypal-4ve.com", "Cyrillic and Latin"),  # the same label written as its A-label
    ("\u03b1pple.example", "Greek and Latin"),
])
def test_labels_mixing_lookalike_scripts_are_refused(hostname, scripts):
    with pytest.raises(ValueError, match=f"mixes {scripts} letters, which look alike"):
        normalise_hostname(hostname)


@pytest.mark.parametrize("hostname", ["bücher.example", "пример.рф", "παράδειγμα.δοκιμή", "例え.テスト"])
def test_single_script_idns_are_accepted(hostname):
    assert normalise_hostname(hostname).startswith("xn--")


def test_two_refused_ids_are_not_a_duplicate_of_each_other():
    found = problems("customers:\n  - id: !!python/name:os.system\n    hostnames: [a.example.com]\n"
                     "  - id: !!python/name:os.system\n    hostnames: [b.example.com]\n")
    assert len(found) == 2 and not any("duplicate id" in p for p in found)


def test_a_huge_error_lists_the_first_problems_and_counts_the_rest():
    text = "customers:\n" + "".join(f"  - id: Bad_{i}\n    hostnames: [x{i}.example.com]\n" for i in range(500))
    with pytest.raises(CustomersFileError) as info:
        parse(text)
    err = info.value
    assert len(err.problems) == 500
    lines = str(err).splitlines()
    assert lines[0] == "customers.yaml: 500 problems, no change was made:"
    assert len(lines) == 1 + 200 + 1
    assert lines[-1] == "  ... and 300 more problems (`saas-domains validate --json` lists them all)"
