"""Property-based tests (hypothesis) of hostname normalisation and validation in infra/model/customers/.

- normalisation is idempotent: a normalised hostname normalises to itself;
- every accepted hostname is a valid DNS name (lower-case LDH or valid IDNA A-labels, label and name
  lengths, two labels or more, no all-numeric last label) whose labels do not mix look-alike scripts,
  checked independently of the code under test;
- no two accepted entries collide after normalisation: a customers file is accepted exactly when its
  hostnames are distinct once normalised, and then the model holds each of them once.

The runs are derandomised (the same examples every time, so the suite cannot turn red by chance) and
keep no example database in the tree. To search harder locally:
`HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests/model/test_hostname_properties.py`.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata

import dns.exception
import dns.name
import idna
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from infra.model.customers import CustomersFileError, ValidationRules, parse_customers
from infra.model.hostnames import normalise_hostname

settings.register_profile("suite", max_examples=300, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=20_000, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "suite")

ZONE = "mailito.com"
RULES = ValidationRules(zone=ZONE, allow_wildcards=True, max_hostnames=10_000)
LDH_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")

# Hostnames as people write them: mostly valid names (ASCII or other scripts), written in one of the
# ways normalisation must see through (upper case, full-width letters, ideographic dots, a final dot,
# surrounding white space, invisible soft hyphens), with some junk mixed in.
SCRIPTS = ("üéßçøåñ", "абвгдеёжпрсятуфхцчшщ", "αβγδεζ", "日本語中文한국")  # Latin, Cyrillic, Greek, CJK
JUNK = "_*@:/ \t\u200d\u202e\x00!~"
ascii_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
unicode_label = st.one_of(*(st.text(st.sampled_from(letters), min_size=1, max_size=8) for letters in SCRIPTS))
latin_with_cjk = st.builds(lambda a, b: a + b, ascii_label,
                           st.text(st.sampled_from(SCRIPTS[3]), min_size=1, max_size=4))
# Latin letters with Cyrillic or Greek ones in one label: refused.
lookalike_mix = st.builds(lambda a, b: a + b,
                          st.from_regex(r"[a-z]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True),
                          st.text(st.sampled_from(SCRIPTS[1] + SCRIPTS[2]), min_size=1, max_size=4))
tld = st.from_regex(r"[a-z]{2,6}", fullmatch=True)
valid_hostname = st.builds(lambda labels, top: ".".join([*labels, top]),
                           st.lists(st.one_of(ascii_label, ascii_label, unicode_label, latin_with_cjk),
                                    min_size=1, max_size=3), tld)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) - 0x21 + 0xFF01) if c.isascii() and c.isalnum() else c for c in text)


def _upper_ascii(text: str) -> str:
    return "".join(c.upper() if c.isascii() else c for c in text)  # "ß".upper() is "SS": another name


WRITINGS = {
    "as is": lambda name: name,
    "upper case": _upper_ascii,
    "full-width": _fullwidth,
    "ideographic dots": lambda name: name.replace(".", "\u3002"),
    "final dot": lambda name: name + ".",
    "white space": lambda name: f" \t{name}\u3000",
    "soft hyphen": lambda name: name.replace(".", "\u00ad.", 1),
}
writing = st.sampled_from(sorted(WRITINGS))
written_hostname = st.builds(lambda name, how: WRITINGS[how](name), valid_hostname, writing)
junk_hostname = st.builds(lambda name, junk, at: name[:at] + junk + name[at:], valid_hostname,
                          st.text(st.sampled_from(JUNK), min_size=1, max_size=3), st.integers(0, 30))
hostname_like = st.one_of(written_hostname, written_hostname, junk_hostname,
                          st.builds(lambda name: "*." + name, valid_hostname),
                          st.builds(lambda label, name: f"{label}.{name}", lookalike_mix, valid_hostname))
any_text = st.text(max_size=80)


def assert_valid_dns_name(name: str, *, wildcard_allowed: bool) -> None:
    """An independent check of what the program may hand to Cloudflare as a hostname."""
    assert name.isascii() and name == name.lower(), name
    assert not name.endswith(".") and len(name) <= 253, name
    labels = name.split(".")
    if labels[0] == "*":
        assert wildcard_allowed, name
        labels = labels[1:]
    assert len(labels) >= 2 and not labels[-1].isdigit(), name
    for part in labels:
        assert LDH_LABEL.match(part), (name, part)
        if part.startswith("xn--"):
            u_label = idna.ulabel(part)
            assert idna.alabel(u_label).decode() == part, (name, part)  # canonical A-label
            scripts = {unicodedata.name(c).split()[0] for c in u_label if c.isalpha()}
            assert len(scripts & {"LATIN", "CYRILLIC", "GREEK"}) <= 1, (name, u_label)  # no homoglyph mixes
    wire = dns.name.from_text(name)  # dnspython enforces the 63/255 octet wire limits
    assert wire.to_text(omit_final_dot=True) == name


def _normalised(raw: str, *, allow_wildcard: bool = False) -> str | None:
    try:
        return normalise_hostname(raw, allow_wildcard=allow_wildcard)
    except ValueError:
        return None


@settings(settings.get_profile(PROFILE))
@given(st.one_of(hostname_like, any_text), st.booleans())
@example("Mail.MKDEV.me.", False)
@example("ｍａｉｌ．ｍｋｄｅｖ．ｍｅ", False)
@example("xn--Mnchen-3ya.de", False)
@example("*.München.de", True)
def test_normalisation_is_idempotent_and_yields_valid_dns_names(raw, allow_wildcard):
    name = _normalised(raw, allow_wildcard=allow_wildcard)  # anything but ValueError fails the test
    if name is None:
        return
    assert normalise_hostname(name, allow_wildcard=allow_wildcard) == name
    assert_valid_dns_name(name, wildcard_allowed=allow_wildcard)


@settings(settings.get_profile(PROFILE))
@given(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?){1,4}", fullmatch=True))
def test_case_and_a_final_dot_do_not_change_an_ascii_hostname(raw):
    name = _normalised(raw)
    assume(name is not None)
    assert name == raw
    assert normalise_hostname(raw.upper()) == normalise_hostname(raw + ".") == normalise_hostname(f" {raw} ") == name


@settings(settings.get_profile(PROFILE))
@given(lookalike_mix, valid_hostname, st.booleans())
@example("mаil", "mkdev.me", False)  # Cyrillic а
@example("pаypal", "com", True)
def test_a_label_mixing_look_alike_scripts_is_refused_also_as_an_a_label(label, name, as_a_label):
    if as_a_label:
        try:
            label = idna.alabel(label).decode()
        except idna.IDNAError:
            assume(False)  # not a valid IDNA label for another reason
    with pytest.raises(ValueError, match="mixes .* letters"):
        normalise_hostname(f"{label}.{name}")


def _customers_file(groups: list[list[str]]) -> str:
    """One customer per group; JSON strings are valid YAML double-quoted scalars."""
    lines = ["customers:"]
    for number, hostnames in enumerate(groups):
        quoted = ", ".join(json.dumps(h, ensure_ascii=False) for h in hostnames)
        lines += [f"  - id: customer-{number}", f"    hostnames: [{quoted}]"]
        if any(h.lstrip().startswith("*.") for h in hostnames):
            lines.append("    ssl: {method: txt}")
    return "\n".join(lines) + "\n"


@st.composite
def customer_groups(draw) -> list[list[str]]:
    """Customers' hostname lists drawn from a few names, each written any way: collisions are common."""
    names = draw(st.lists(valid_hostname, min_size=1, max_size=5))
    pick = st.builds(lambda index, how: WRITINGS[how](names[index]), st.integers(0, len(names) - 1), writing)
    return draw(st.lists(st.lists(pick, min_size=1, max_size=3), min_size=1, max_size=4))


@settings(settings.get_profile(PROFILE), max_examples=min(settings.get_profile(PROFILE).max_examples, 150))
@given(customer_groups())
@example([["mail.mkdev.me"], ["MAIL.mkdev.me."]])
@example([["ｍａｉｌ.mkdev.me", "shop.mkdev.me"], ["mail\u00ad.mkdev.me"]])
def test_a_file_is_accepted_exactly_when_its_hostnames_are_distinct_after_normalisation(groups):
    raws = [raw for group in groups for raw in group]
    names = [_normalised(raw, allow_wildcard=True) for raw in raws]
    assume(None not in names)  # each hostname valid on its own ...
    assume(not any(n == ZONE or n.endswith("." + ZONE) for n in names))  # ... and outside the zone
    distinct = len(set(names)) == len(names)
    try:
        model = parse_customers(_customers_file(groups), RULES)
    except CustomersFileError as err:
        assert not distinct, [str(p) for p in err.problems]
        assert all("is already declared at line" in p.message for p in err.problems), err.problems
        assert len(err.problems) == len(names) - len(set(names))
        return
    assert distinct
    declared = [h.hostname for h in model.hostnames]
    assert declared == sorted(set(names))  # each once, sorted for stable diffs
    for entry in model.hostnames:
        assert_valid_dns_name(entry.hostname, wildcard_allowed=True)


@pytest.mark.parametrize("raw", ["mail.mkdev.me", "xn--mnchen-3ya.de", "*.example.com"])
def test_the_dns_name_oracle_accepts_what_it_should(raw):
    assert_valid_dns_name(raw, wildcard_allowed=True)


@pytest.mark.parametrize("raw", ["Mail.mkdev.me", "mail.mkdev.me.", "a..b", "-a.b", "a.123", "xn--zz.b",
                                 "a" * 64 + ".b", "localhost", "xn--mil-6cd.mkdev.me"])
def test_the_dns_name_oracle_refuses_what_it_should(raw):
    with pytest.raises((AssertionError, dns.exception.DNSException, idna.IDNAError)):
        assert_valid_dns_name(raw, wildcard_allowed=False)


# A hostname as people paste it: inside a URL, an e-mail address, quotes or <...>.
PASTINGS = {
    "url": lambda name, port, path: f"https://{name}{port}{path}",
    "address bar": lambda name, port, path: f"http://{name}{port}/{path.lstrip('/')}?utm_source=mail#top",
    "no scheme": lambda name, port, path: f"{name}{port}{path}",
    "e-mail": lambda name, port, path: f"support@{name}",
    "quoted": lambda name, port, path: f'"{name}"',
    "angle brackets": lambda name, port, path: f"<{name}>",
}
pasted_hostname = st.builds(
    lambda name, how, port, path: (name, PASTINGS[how](name, port, path)),
    valid_hostname, st.sampled_from(sorted(PASTINGS)),
    st.sampled_from(["", ":8443", ":80"]), st.sampled_from(["", "/", "/login", "/a/b.html"]))
SUGGESTION = re.compile(r"write `([^`]*)`: remove ")


@settings(settings.get_profile(PROFILE))
@given(pasted_hostname)
@example(("app.example.com", "https://app.example.com"))
def test_a_pasted_hostname_is_explained_by_what_to_remove_and_the_hostname_itself(case):
    name, pasted = case
    try:
        normalise_hostname(pasted)
    except ValueError as exc:
        suggestion = SUGGESTION.match(str(exc))
        assert suggestion, str(exc)
        assert normalise_hostname(suggestion.group(1)) == normalise_hostname(name)
    else:
        assert pasted == name  # only the unchanged name is accepted


@settings(settings.get_profile(PROFILE))
@given(st.one_of(hostname_like, any_text, pasted_hostname.map(lambda case: case[1])), st.booleans())
def test_a_suggested_hostname_is_itself_accepted(raw, allow_wildcard):
    try:
        normalise_hostname(raw, allow_wildcard=allow_wildcard)
    except ValueError as exc:  # anything but ValueError fails the test
        suggestion = SUGGESTION.match(str(exc))
        if suggestion:
            normalise_hostname(suggestion.group(1), allow_wildcard=allow_wildcard)
