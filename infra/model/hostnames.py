"""Hostnames as the customers file, the importer and support see them: pure, no Pulumi, no network."""

from __future__ import annotations

import ipaddress
import re
import unicodedata

import idna

from infra.model.messages import code, listed_with_and, show

_MAX_HOSTNAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
# Longer raw input cannot be a hostname; rejecting it early keeps IDNA cheap.
_MAX_RAW_HOSTNAME_LENGTH = 1024


LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_MAYBE_IPV4 = re.compile(r"[0-9.]+\Z")


class HostnameError(ValueError):
    """A refused hostname that looks pasted. `suggestion` is the hostname to write instead, when there
    is one. When one value looks like several hostnames, `pieces` holds them and `problems` what is
    wrong with those that are not hostnames either, so a caller that knows where the value stands
    (the customers file: its lines) can word the advice itself."""

    def __init__(self, reason: str, pieces: tuple[str, ...] = (), problems: tuple[str, ...] = (),
                 suggestion: str | None = None) -> None:
        super().__init__(reason)
        self.pieces = pieces
        self.problems = problems
        self.suggestion = suggestion


def count_word(number: int) -> str:
    """'two' to 'nine', then digits."""
    return _NUMBERS[number - 2] if 2 <= number < len(_NUMBERS) + 2 else str(number)


def normalise_hostname(raw: str, *, allow_wildcard: bool = False) -> str:
    """Return the canonical (lower-case, A-label, no trailing dot) form of ``raw``.

    Raises ValueError with a short reason naming the rule that failed, so the
    same hostname written two ways compares equal and bad ones are explained.
    A refused value that looks pasted (a URL, an e-mail address, quotes, several
    hostnames) is explained by what to remove instead; what is accepted never
    depends on that explanation, which runs only once the rules have refused.
    """
    try:
        return _normalise(raw, allow_wildcard)
    except ValueError:
        if not isinstance(raw, str) or len(raw) > _MAX_RAW_HOSTNAME_LENGTH:
            raise
        explained = _explain_pasted(raw, allow_wildcard)
        if explained is None:
            raise
        raise explained from None


def _normalise(raw: str, allow_wildcard: bool) -> str:
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


# -- what a person pasted ------------------------------------------------------------------------
# A refused value is read as a person's copy and paste: a URL (scheme, user, port, path, query,
# fragment), an e-mail address, quotes or <...> around it, spaces inside, or several hostnames in one
# value. The explanation names each part to remove and shows the corrected value, which it checks.
# Only spaces and tabs count as spaces here: other white space inside a value (a line separator, a
# no-break space) keeps the rules' message, which names its code point.

_WRAPPERS = "\"'`\u201c\u201d\u201e\u2018\u2019\u00ab\u00bb<>"  # quotes (also typographic), backticks, <...>
_QUOTES = frozenset(_WRAPPERS) - {"<", ">"}
_SCHEME = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?//|https?:/?(?=[^/])|https?//|mailto:", re.IGNORECASE)
_SEPARATORS = frozenset({"-", "\u2013", "\u2014", "|", "&", "and"})  # between hostnames, as people list them
_NUMBERS = ("two", "three", "four", "five", "six", "seven", "eight", "nine")


def _explain_pasted(raw: str, allow_wildcard: bool) -> HostnameError | None:
    """What to remove from a refused value, or None when it does not look pasted."""
    text = raw.strip()
    unwrapped = text.lstrip(_WRAPPERS)
    start = text[: len(text) - len(unwrapped)]
    core = unwrapped.rstrip(_WRAPPERS)
    end, core = unwrapped[len(core):], core.strip()
    several = _several_hostnames(core, allow_wildcard)
    if several is not None:
        return several
    trailing = core[len(core.rstrip(",;")):]  # left over from a `[a, b]` list turned into `- ` lines
    core = core[: len(core) - len(trailing)]
    parts: list[str] = []
    scheme = _SCHEME.match(core)
    if scheme:
        parts.append(code(scheme.group()))
        core = core[scheme.end():]
    authority, rest = core, ""
    cut = min((core.find(c) for c in "/?#" if c in core), default=-1)
    if cut >= 0:
        authority, rest = core[:cut], core[cut:]
    fragment = rest[rest.find("#"):] if "#" in rest else ""
    rest = rest[: len(rest) - len(fragment)]
    query = rest[rest.find("?"):] if "?" in rest else ""
    path = rest[: len(rest) - len(query)]
    at = authority.rfind("@")
    user = authority[: at + 1]
    authority = authority[at + 1:]
    email = (bool(user) and not (path or query or fragment) and ":" not in user
             and (scheme is None or scheme.group().lower() == "mailto:"))
    if user:
        parts.append(code(user))
    port = ""
    if authority.startswith("[") and "]:" in authority:
        port = authority[authority.index("]:") + 1:]
    elif authority.count(":") == 1:
        port = authority[authority.index(":"):]
    authority = authority[: len(authority) - len(port)]
    spaces = len(re.findall(r"[ \t]+", authority))
    if spaces:
        parts.append("the space" if spaces == 1 else "the spaces")
        authority = re.sub(r"[ \t]+", "", authority)
    if port:
        parts.append(f"the port {code(port)}" if port[1:].isdigit() else code(port))
    if path:
        slash = "the `/` at the end" if not (query or fragment) else "the `/`"
        parts.append(slash if path == "/" else f"the path {code(path)}")
    parts.extend(code(piece) for piece in (query, fragment) if piece)
    parts.extend(_wrappers(start, end))
    if trailing:
        parts.append(f"the {code(trailing)} at the end")
    if not parts:
        return None
    listing = listed_with_and(parts)
    try:
        _normalise(authority, allow_wildcard)
    except ValueError as exc:
        return HostnameError(f"remove {listing}; the rest, {show(authority)}, is still not a hostname: {exc}")
    note = " (an e-mail address, not a hostname)" if email else ""
    shown = authority[:-1] if authority.endswith(".") else authority  # a final dot is fine, but not needed
    return HostnameError(f"write {code(shown)}: remove {listing}{note}", suggestion=shown)


def _several_hostnames(text: str, allow_wildcard: bool) -> HostnameError | None:
    """'a.example.com b.example.com', 'a.example.com - b.example.com', 'a.example.com, b.example.com'."""
    words = [word for word in re.split(r"[ \t,;]+", text) if word]
    pieces = tuple(word for word in words if word.lower() not in _SEPARATORS)
    separated = len(pieces) < len(words) or "," in text or ";" in text
    if len(pieces) < 2 or not (separated or sum("." in piece for piece in pieces) >= 2):
        return None
    count = count_word(len(pieces))
    problems = []
    for piece in pieces:
        try:
            normalise_hostname(piece, allow_wildcard=allow_wildcard)
        except ValueError as exc:
            problems.append(f"{show(piece)}: {exc}")
    reason = f"looks like {count} hostnames in one value: write each as its own item"
    return HostnameError("; ".join([reason, *problems]), pieces, tuple(problems))


def _wrappers(start: str, end: str) -> list[str]:
    if start and end and set(start + end) <= _QUOTES:
        return ["the quotes around it"]
    if start and end and set(start + end) <= {"<", ">"}:
        return ["the `<` and `>` around it"]
    return [f"the {code(start)} at the start"] * bool(start) + [f"the {code(end)} at the end"] * bool(end)


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


def label_from(text: str) -> str:
    """The DNS label a name or a phrase suggests ('Initrode Inc' -> 'initrode-inc', 'mkdev.me' -> 'mkdev-me'):
    accents folded, every run of other characters one hyphen, at most MAX_LABEL_LENGTH; '' when nothing is left."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:MAX_LABEL_LENGTH].rstrip("-")


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
