"""Hostnames as the customers file, the importer and support see them: pure, no Pulumi, no network."""

from __future__ import annotations

import ipaddress
import re
import unicodedata

import idna

from infra.model.messages import show

_MAX_HOSTNAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
# Longer raw input cannot be a hostname; rejecting it early keeps IDNA cheap.
_MAX_RAW_HOSTNAME_LENGTH = 1024


LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_MAYBE_IPV4 = re.compile(r"[0-9.]+\Z")


def normalise_hostname(raw: str, *, allow_wildcard: bool = False) -> str:
    """Return the canonical (lower-case, A-label, no trailing dot) form of ``raw``.

    Raises ValueError with a short reason naming the rule that failed, so the
    same hostname written two ways compares equal and bad ones are explained.
    """
    if not isinstance(raw, str):
        raise ValueError(f"expected a string, got {type(raw).__name__}")
    name = raw.strip().lower()
    if not name:
        raise ValueError("empty hostname")
    if len(name) > _MAX_RAW_HOSTNAME_LENGTH:
        raise ValueError(f"{len(name)} characters long; at most {_MAX_HOSTNAME_LENGTH} are allowed")
    if _is_ip_address(name):
        raise ValueError("an IP address, not a hostname")
    if not name.isascii():
        name = _uts46_remap(name)
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise ValueError("empty hostname")
    labels = name.split(".")
    wildcard = labels[0] == "*"
    if wildcard:
        if not allow_wildcard:
            raise ValueError("wildcard hostnames are not allowed here")
        labels = labels[1:]
    _check_label_shapes(labels)
    labels = [_to_a_label(label) for label in labels]
    if len(labels) < 2:
        raise ValueError("needs at least two labels (like example.com)")
    if labels[-1].isdigit():
        raise ValueError(f"last label {labels[-1]!r} is all-numeric")
    result = ".".join(["*", *labels] if wildcard else labels)
    if len(result) > _MAX_HOSTNAME_LENGTH:
        raise ValueError(f"{len(result)} characters long; at most {_MAX_HOSTNAME_LENGTH} are allowed")
    return result


def _is_ip_address(name: str) -> bool:
    """True for IPv4/IPv6 literals (also bracketed or with a trailing dot)."""
    candidate = name[:-1] if name.endswith(".") else name
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    if ":" not in candidate and not _MAYBE_IPV4.match(candidate):
        return False  # cheap filter: most names never reach ipaddress
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def _uts46_remap(name: str) -> str:
    """UTS-46 mapping (non-transitional) with idna's errors made readable."""
    try:
        return idna.uts46_remap(name, std3_rules=False, transitional=False)
    except Exception as exc:  # idna raises several types; never leak them
        raise ValueError(f"not a valid internationalised hostname: {exc}") from None


def _check_label_shapes(labels: list[str]) -> None:
    """Structural checks that must run before IDNA so their reasons are precise."""
    for label in labels:
        if not label:
            raise ValueError("empty label")
        if "*" in label:
            raise ValueError("'*' is only allowed as the whole leftmost label (as in *.example.com)")


def _to_a_label(label: str) -> str:
    """Convert one label to its A-label and check LDH/length rules."""
    if label.isascii():
        if LDH_LABEL.match(label) and label[2:4] != "--":
            return label  # fast path: the vast majority of labels
        _check_ldh(label)
        if label.startswith("xn--"):
            _check_ace_label(label)
        return label
    if len(label) > MAX_LABEL_LENGTH:  # its A-label is longer still
        raise ValueError(f"label {show(label)} is longer than {MAX_LABEL_LENGTH} octets")
    _check_single_script(label)
    try:
        a_label = idna.alabel(label).decode("ascii")
    except Exception as exc:
        raise ValueError(f"label {show(label)} is not a valid internationalised label: {exc}") from None
    if len(a_label) > MAX_LABEL_LENGTH:
        raise ValueError(
            f"label {show(label)} is {len(a_label)} octets as an A-label ({a_label}); "
            f"at most {MAX_LABEL_LENGTH} are allowed"
        )
    return a_label


def _check_ldh(label: str) -> None:
    """Explain why an ASCII label is not a valid LDH label (if it is not)."""
    if len(label) > MAX_LABEL_LENGTH:
        raise ValueError(
            f"label {show(label)} is {len(label)} octets long; at most {MAX_LABEL_LENGTH} are allowed"
        )
    for char in label:
        if not (char.isalnum() or char == "-"):
            raise ValueError(
                f"label {show(label)} contains {char!r}; only letters, digits and hyphens are allowed"
            )
    if label.startswith("-"):
        raise ValueError(f"label {show(label)} starts with a hyphen")
    if label.endswith("-"):
        raise ValueError(f"label {show(label)} ends with a hyphen")


def _check_ace_label(label: str) -> None:
    """An 'xn--' label must be valid Punycode for a valid IDNA label, and pass the script check."""
    try:
        u_label = idna.ulabel(label)
    except Exception as exc:
        raise ValueError(f"label {show(label)} is not a valid IDNA A-label: {exc}") from None
    _check_single_script(u_label, shown_as=label)


_LOOKALIKE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


def _check_single_script(label: str, shown_as: str | None = None) -> None:
    """Refuse a label mixing Latin, Cyrillic and Greek letters: 'pаypal' with a Cyrillic 'а' reads as
    ASCII in review (a homoglyph), which UTS #39's 'highly restrictive' profile also forbids."""
    scripts = {unicodedata.name(char, "?").split(" ")[0] for char in label if char.isalpha()}
    mixed = sorted(scripts & _LOOKALIKE_SCRIPTS)
    if len(mixed) > 1:
        raise ValueError(
            f"label {show(shown_as or label)} mixes {' and '.join(s.title() for s in mixed)} letters, "
            "which look alike (a homoglyph risk); write each label in one script"
        )


def in_zone(hostname: str, zone: str) -> bool:
    return hostname == zone or hostname.endswith("." + zone)


# Public suffixes with two labels that people register under; without the full Public Suffix List
# (not a dependency here) this covers the common cases and errs towards "not an apex".
_TWO_LABEL_SUFFIXES = frozenset("""
co.uk org.uk me.uk ltd.uk plc.uk net.uk ac.uk gov.uk sch.uk nhs.uk
com.au net.au org.au edu.au gov.au id.au co.nz net.nz org.nz ac.nz govt.nz
co.jp ne.jp or.jp ac.jp go.jp co.kr or.kr ne.kr com.cn net.cn org.cn gov.cn com.hk com.tw com.sg edu.sg
co.in net.in org.in firm.in gen.in com.br net.br org.br com.ar com.mx org.mx com.co com.pe com.uy com.ve
co.za org.za com.tr net.tr org.tr co.il org.il com.my co.id co.th in.th com.ph com.vn com.pk com.bd
com.ua com.pl net.pl org.pl com.es com.pt com.gr com.ro co.at or.at com.eg com.sa com.ng co.ke
""".split())


def registrable_domain(hostname: str) -> str:
    """The domain a customer registered: mail.mkdev.me -> mkdev.me, a.b.example.co.uk -> example.co.uk."""
    labels = hostname.lstrip("*.").split(".")
    keep = 3 if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def is_apex(hostname: str) -> bool:
    """An apex (registrable domain itself) cannot hold a CNAME at most DNS providers."""
    return hostname == registrable_domain(hostname)
