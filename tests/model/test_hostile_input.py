"""Malformed and hostile customers files, end to end through the real program.

Every file in tests/fixtures/hostile/ (and a few enormous ones generated here, too big to commit) is run
through `__main__.py` under Pulumi's mock engine, as `pulumi up` would run it. Each has exactly one
expected outcome, listed in CORPUS below:

- Refused: the program stops with a readable error (file, line, what is wrong; no traceback, no raw
  control characters, under 64 KiB however many problems) and declares nothing at all: no resource,
  no provider lookup.
- Declares: the file is accepted after a documented normalisation (BOM and surrounding whitespace
  dropped, UTS-46 mapping and IDNA A-labels, YAML on/off read as "on"/"off"), and the program declares
  exactly the listed custom hostnames.

tests/model/test_customers.py checks each validation rule's message; this corpus checks that hostile
files as a whole never crash, never half-deploy and never turn into something unexpected.

Both origins run the whole corpus, each with its example stack: `dev` (aws-alb) and `gcp-example`
(gcp-cloud-run). The customers file is checked before either origin is declared, but a refusal must
still stop the Cloud Run program before its first resource or lookup, and an accepted file must
declare the same custom hostnames in front of either origin. The whole corpus stays cheap for both
(a refused file costs milliseconds, an accepted one a small rendering; each provider SDK loads once per
process), so no subset is taken: the second origin adds about fifteen seconds, most of it the first
import of pulumi_gcp.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infra.model import names
from infra.offline import ProgramError, Rendering
from tests.conftest import run_gcp_program, run_program, stack_config
from tests.fakes.cloud import FakeCloud

CORPUS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
HOSTNAME = "cloudflare:index/customHostname:CustomHostname"
EXECUTED_MARKER = Path("/tmp/saas-domains-hostile-yaml-ran")  # what tag-python-object-apply.yaml would create
# Each origin: its example stack, how to run it, and the component type that proves the rendering used it.
ORIGINS = {"aws-alb": ("dev", run_program, names.ORIGIN_TYPE),
           "gcp-cloud-run": ("gcp-example", run_gcp_program, names.CLOUD_RUN_ORIGIN_TYPE)}


@dataclass(frozen=True)
class Refused:
    line: int | None  # line of the first problem; None when it is about the whole file
    says: tuple[str, ...]  # each of these appears in the error


@dataclass(frozen=True)
class Declares:
    hostnames: dict[str, str]  # normalised hostname -> customer id
    why: str  # the documented normalisation that makes the file acceptable
    ssl_settings: dict[str, str] = field(default_factory=dict)  # expected ssl.settings of every hostname


CORPUS: dict[str, Refused | Declares] = {
    # YAML syntax and structure
    "syntax-unclosed-flow-sequence.yaml": Refused(4, ("the `[` on line 4 is never closed: end the list with `]`, "
                                                      "as in `hostnames: [mail.mkdev.me]`",)),
    "syntax-unterminated-quote.yaml": Refused(3, ('the `"` before `mail.mkdev.me` on line 3 is never closed: '
                                                  'write `hostnames: ["mail.mkdev.me"]`',)),
    "syntax-bad-indentation.yaml": Refused(3, ("line 3 is indented differently from line 2: indent `hostnames:` by "
                                               "4 spaces, like `id:` on line 2 (it has 5 spaces)",)),
    "syntax-mapping-in-a-plain-value.yaml": Refused(2, ("line 2 has a second `: ` in the value of `id:`: remove it, "
                                                        "or put the value in quotes: `- id: 'mkdev: acme'`",)),
    "syntax-list-item-indented-differently.yaml": Refused(5, (
        "line 5 is indented differently from line 4: put its `-` under the `-` of line 4, 6 spaces in "
        "(it has 5 spaces)",)),
    "syntax-list-item-not-under-its-key.yaml": Refused(5, (
        "a `-` list item at line 5 is not under `hostnames:`: put its `-` under the `-` of line 4, 6 spaces in "
        "(it has 4 spaces)",)),
    "syntax-key-indented-differently.yaml": Refused(5, (
        "line 5 is indented differently from line 3: indent `ssl:` by 4 spaces, like `hostnames:` on line 3 "
        "(it has 3 spaces)",)),
    "syntax-unquoted-wildcard.yaml": Refused(4, (
        "the value `*.initrode.com` on line 4 starts with `*`, so it must be quoted: write `'*.initrode.com'`",)),
    "syntax-second-document.yaml": Refused(4, ("a second YAML document starts here; only one is allowed",)),
    "syntax-yaml-1.3-directive.yaml": Refused(1, ("YAML syntax error: found incompatible YAML document",)),
    "truncated-mid-entry.yaml": Refused(5, ("customer 'acme' (entry 2): 'hostnames' must be a list, got nothing",)),
    "top-level-list.yaml": Refused(1, ("the top level must be a mapping with a 'customers' key, got a list",)),
    "empty-comments-only.yaml": Refused(None, ("the file is empty; it needs a 'customers' list",)),
    "unknown-key-homoglyph.yaml": Refused(2, ("unknown key 'hostnаmes'; did you mean 'hostnames'?",)),
    # Anchors, aliases, merge keys
    "alias-billion-laughs.yaml": Refused(2, ("YAML anchors (&a) are not allowed", "YAML aliases (*i) are not allowed")),
    "alias-merge-key.yaml": Refused(1, ("defaults: YAML anchors (&base) are not allowed",
                                        "customer 'mkdev' (entry 1): YAML aliases (*base) are not allowed")),
    "anchor-without-alias.yaml": Refused(2, ("YAML anchors (&mkdev) are not allowed",)),
    # Nesting
    "deep-flow-nesting.yaml": Refused(1, ("YAML syntax error: exceeded maximum nesting depth",)),
    "deep-block-nesting.yaml": Refused(3, ("customer entry 1: must be a mapping with 'id' and 'hostnames', "
                                           "got a list",)),
    "deep-nesting-in-metadata.yaml": Refused(4, ("metadata.plan: expected a string, got a mapping",)),
    # Encodings, control and invisible characters, line endings, tabs
    "encoding-latin-1.yaml": Refused(3, ("not valid UTF-8: byte 0xfc at offset 50; save the file as UTF-8",)),
    "encoding-utf-16-with-bom.yaml": Refused(1, ("not valid UTF-8 (it looks like UTF-16)",)),
    "encoding-cesu-8-surrogate.yaml": Refused(4, ("not valid UTF-8: byte 0xed",)),
    "encoding-overlong-slash.yaml": Refused(3, ("not valid UTF-8: byte 0xc0",)),
    "encoding-utf-8-bom.yaml": Declares({"mail.mkdev.me": "mkdev"}, "a UTF-8 byte order mark is dropped"),
    "control-nul-byte.yaml": Refused(3, ("invalid character U+0000 in the file",)),
    "control-ansi-escape.yaml": Refused(3, ("invalid character U+001B in the file",)),
    "control-nel-line-break.yaml": Refused(6, ("YAML syntax error",)),  # NEL is a YAML line break
    "control-line-separator.yaml": Refused(3, ("Codepoint U+2028 not allowed",)),
    "control-noncharacter.yaml": Refused(3, ("invalid character U+FFFE in the file",)),
    "bidi-override-in-hostname.yaml": Refused(3, (r"'mail.\u202eem.vedkm'", "Codepoint U+202E not allowed")),
    "zero-width-joiner.yaml": Refused(3, ("Joiner U+200D not allowed",)),
    "invisible-characters-dropped.yaml": Declares(
        {"mail.mkdev.me": "mkdev", "shop.mkdev.me": "mkdev", "www.mkdev.me": "mkdev"},
        "UTS-46 maps zero-width space, soft hyphen and U+FEFF to nothing, as browsers do"),
    "line-endings-crlf.yaml": Declares({"mail.mkdev.me": "mkdev"}, "CRLF line endings are YAML line breaks"),
    "line-endings-cr-only.yaml": Declares({"mail.mkdev.me": "mkdev"}, "CR line endings are YAML line breaks"),
    "tab-indentation.yaml": Refused(2, ("line 2 has a tab: use spaces",)),
    "tabs-as-separators.yaml": Declares({"mail.mkdev.me": "mkdev"}, "tabs between tokens are YAML white space"),
    "whitespace-around-hostnames.yaml": Declares({"mail.mkdev.me": "mkdev", "shop.mkdev.me": "mkdev"},
                                                 "white space (also U+3000) around a hostname is dropped"),
    # Labels and shapes
    "label-64-octets.yaml": Refused(3, ("is 64 octets long; at most 63 are allowed",)),
    "hostname-254-octets.yaml": Refused(3, ("254 characters long; at most 253 are allowed",)),
    "idn-label-too-long.yaml": Refused(3, ("is not a valid internationalised label: Label too long",)),
    "empty-labels.yaml": Refused(3, ("hostnames[0] 'mail..mkdev.me': empty label", "hostnames[2] '.': empty hostname",
                                     "hostnames[3] '-': label '-' starts with a hyphen")),
    "ip-addresses.yaml": Refused(3, ("'192.0.2.10': an IP address", "'[2001:db8::1]': an IP address",
                                     "'::ffff:192.0.2.1': an IP address")),
    "single-label.yaml": Refused(3, ("'localhost': needs at least two labels",)),
    "invalid-punycode.yaml": Refused(3, ("label 'xn--zz' is not a valid IDNA A-label",
                                         "label 'xn--mail' is not a valid IDNA A-label")),
    "url-instead-of-hostname.yaml": Refused(3, ("'https://mail.mkdev.me/': write `mail.mkdev.me`: remove `https://` "
                                                "and the `/` at the end",
                                                "'mail.mkdev.me:443': write `mail.mkdev.me`: remove the port `:443`")),
    "pasted-urls-and-addresses.yaml": Refused(5, (
        "hostnames[0] 'https://app.initrode.com': write `app.initrode.com`: remove `https://`",
        "hostnames[1] 'app.initrode.com/login': write `app.initrode.com`: remove the path `/login`",
        "hostnames[2] 'status.initrode.com:8443': write `status.initrode.com`: remove the port `:8443`",
        "hostnames[3] 'support@initrode.com': write `initrode.com`: remove `support@` (an e-mail address, "
        "not a hostname)",
        "hostnames[4] '<shop.initrode.com>': write `shop.initrode.com`: remove the `<` and `>` around it",
        "hostnames[5] \"'docs.initrode.com'\": write `docs.initrode.com`: remove the quotes around it",
        "write `Blog.Initrode.com`: remove `https://`, the `/`, `?utm_source=mail` and `#top`")),
    "two-hostnames-in-one-value.yaml": Refused(4, (
        "hostnames[0] 'mail.initrode.com - status.initrode.com': looks like two hostnames in one value: line 5 is "
        "indented more than line 4, so YAML read them as one; put each on its own line starting with `- ` at the "
        "same indentation as line 4",)),
    "underscore-label.yaml": Refused(3, ("label '_dmarc' contains '_'",)),
    "wildcard-in-the-middle.yaml": Refused(3, ("'*' is only allowed as the whole leftmost label",)),
    "wildcard-not-enabled.yaml": Refused(3, ("wildcard hostnames are an Enterprise feature and are disabled",)),
    # Internationalised names and homoglyphs
    "homoglyph-mixed-script-label.yaml": Refused(4, ("label 'mаil' mixes Cyrillic and Latin letters",)),
    "homoglyph-of-the-saas-zone.yaml": Refused(4, ("label 'mаilito' mixes Cyrillic and Latin letters",)),
    "idn-whole-script-cyrillic.yaml": Declares({"xn--80a1acny.xn--p1ai": "pochta"},
                                               "an IDN is declared by its A-label (почта.рф)"),
    "idn-fullwidth-and-ideographic-dots.yaml": Declares({"mail.mkdev.me": "mkdev", "shop.mkdev.me": "mkdev"},
                                                        "UTS-46 maps full-width letters and ideographic dots"),
    "idn-german-sharp-s.yaml": Declares({"xn--strae-oqa.de": "strasse"},
                                        "IDNA 2008 keeps ß (non-transitional), not strasse.de"),
    "idn-duplicate-after-normalisation.yaml": Refused(5, ("hostname 'mail.mkdev.me' is already declared at line 3",)),
    "idn-saas-zone-after-normalisation.yaml": Refused(3, ("is inside the SaaS zone 'mailito.com'",)),
    "idn-emoji.yaml": Refused(3, ("Codepoint U+1F4A9 at position 1",)),
    "idn-smart-quotes.yaml": Refused(3, ("'“mail.mkdev.me”': write `mail.mkdev.me`: remove the quotes around it",)),
    "idn-mixed-direction-label.yaml": Refused(3, ("Invalid direction for codepoint",)),
    # Types
    "types-numbers-where-strings-belong.yaml": Refused(2, ("id: expected a string, got an integer (123)",
                                                           "hostnames[0]: expected a string, got an integer (12345)",
                                                           "hostnames[2]: expected a string, got a number (.inf)")),
    "types-yes-no-booleans.yaml": Refused(2, ('id: expected a string, got a boolean (no); quote it if you mean the '
                                              'text: "no"', "hostnames[0]: expected a string, got a boolean (yes)",
                                              "ssl.wildcard: expected true or false, got a string 'true'",
                                              'ssl.http2: expected "on" or "off", got a boolean (yes)')),
    "types-on-off-normalised.yaml": Declares({"mail.mkdev.me": "mkdev"}, "bare on/off (YAML 1.1 booleans) are read "
                                             "as \"on\"/\"off\"", {"http2": "off", "tls13": "on", "earlyHints": "off"}),
    "types-float-tls-version.yaml": Refused(4, ('ssl.min_tls_version: 1.2 is a YAML number, not a string; '
                                                'quote it: "1.2"',)),
    "types-dates-and-hex.yaml": Refused(2, ("got a date (2024-01-01)", "got an integer (0x1F)")),
    "types-nulls.yaml": Refused(3, ("'hostnames' must be a list, got nothing (null)",
                                    "hostnames[1]: expected a string, got nothing (null)")),
    "tls-below-the-floor.yaml": Refused(4, ("TLS 1.0 is below the project's minimum of TLS 1.2",)),
    # Tags
    "tag-python-object-apply.yaml": Refused(1, ("YAML tag !!python/object/apply:os.system is not allowed",)),
    "tag-python-name-and-module.yaml": Refused(2, ("YAML tag !!python/name:os.system is not allowed",
                                                   "YAML tag !!python/module:os is not allowed")),
    "tag-set-binary-and-local.yaml": Refused(2, ("YAML tag !acme is not allowed", "YAML tag !!set is not allowed",
                                                 "YAML tag !!binary is not allowed")),
    "tag-verbatim-core-str.yaml": Declares({"mail.mkdev.me": "mkdev"}, "explicit core tags (!!str) are plain values"),
    # Duplicates
    "duplicate-top-level-customers.yaml": Refused(4, ("duplicate top-level key 'customers' (first at line 1)",)),
    "duplicate-keys-in-an-entry.yaml": Refused(4, ("duplicate key 'hostnames' (first at line 3)",)),
    "id-with-spaces-and-capitals.yaml": Refused(2, (
        "customer entry 1: id 'Initrode Inc': has capital letters and a space; ids are lowercase letters, digits "
        "and hyphens: try `initrode-inc`",)),
    "several-broken-entries.yaml": Refused(3, (
        "several-broken-entries.yaml:3: customer entry 1: id 'Initrode Inc': has capital letters and a space",
        "several-broken-entries.yaml:5: customer entry 1: hostnames[0] 'https://app.initrode.com': write "
        "`app.initrode.com`: remove `https://`",
        "several-broken-entries.yaml:6: customer entry 1: unknown key 'colour'",
        "several-broken-entries.yaml:7: customer entry 2: id 'globex_corp': has an underscore",
        "several-broken-entries.yaml:8: customer entry 2: unknown key 'hostname'; did you mean 'hostnames'?",
        "several-broken-entries.yaml:9: customer entry 3: id 'umbrella-': ends with a hyphen",
        "several-broken-entries.yaml:10: customer entry 3: hostnames[0] 'shop.umbrella.com/cart': write "
        "`shop.umbrella.com`: remove the path `/cart`",
        "several-broken-entries.yaml:10: customer entry 3: hostnames[1] 'support@umbrella.com'",
        "several-broken-entries.yaml:11: customer entry 3: unknown ssl key 'methd'; did you mean 'method'?")),
    "duplicate-customer-ids.yaml": Refused(4, ("duplicate id 'mkdev': entry 1 at line 2 already uses it",)),
    "duplicate-metadata-keys.yaml": Refused(4, ("duplicate metadata key 'plan'",)),
    # The SaaS zone
    "hostnames-inside-the-saas-zone.yaml": Refused(3, ("'proxy-fallback.mailito.com': is inside the SaaS zone",
                                                       "'acme.cname.mailito.com': is inside the SaaS zone",
                                                       "'MAILITO.COM.': is the SaaS zone 'mailito.com' itself")),
    "origin-outside-the-saas-zone.yaml": Refused(
        4, ("origin 'evil.example': must be a proxied record inside the SaaS zone",)),
}


def _valid_tail() -> str:
    return "customers:\n  - id: mkdev\n    hostnames: [mail.mkdev.me]\n"


# Too big to commit: written to a temporary directory by the test.
GENERATED: dict[str, tuple[object, Refused | Declares]] = {
    "enormous-20mb-of-comments.yaml": (
        lambda: ("# " + "x" * 77 + "\n") * 262_144 + _valid_tail(),
        Declares({"mail.mkdev.me": "mkdev"}, "comments are ignored, however long the file")),
    "enormous-10mb-hostname.yaml": (
        lambda: "customers:\n  - id: mkdev\n    hostnames: ['" + "a" * 10_000_000 + ".example']\n",
        Refused(3, ("10000008 characters long; at most 253 are allowed", "aaa...'"))),
    "enormous-6001-hostnames.yaml": (
        lambda: "customers:\n" + "".join(f"  - id: c{i}\n    hostnames: [www.c{i}.example, shop.c{i}.example]\n"
                                         for i in range(3000)) + "  - id: z\n    hostnames: [z.example]\n",
        Refused(2, ("6001 hostnames in total is more than the cap of 5000; raise the stack setting "
                    "saas-domains:maxHostnames",))),
    "enormous-100k-broken-entries.yaml": (
        lambda: "customers:\n" + "  - 1\n" * 100_000,
        Refused(2, ("customer entry 1: must be a mapping with 'id' and 'hostnames', got an integer (1)",
                    "customer entry 200: must be a mapping",
                    "... and 99800 more problems (`saas-domains validate --json` lists them all)"))),
    "enormous-1m-deep-flow-nesting.yaml": (
        lambda: "customers: " + "[" * 1_000_000 + "]" * 1_000_000 + "\n",
        Refused(1, ("YAML syntax error: exceeded maximum nesting depth",))),
}


def _run(path: Path, origin: str) -> tuple[FakeCloud, Rendering | ProgramError]:
    """The origin's example stack, as written, with `path` as its customers file."""
    stack, run, _ = ORIGINS[origin]
    assert stack_config(stack)[f"{names.PROJECT}:origin"] == origin
    cloud = FakeCloud()
    try:
        return cloud, run(path, cloud=cloud)
    except ProgramError as err:
        return cloud, err


def _check(path: Path, expected: Refused | Declares, origin: str = "aws-alb") -> str | None:
    """Run the program on `path` with `origin` and check the expected outcome; return the error message, if any."""
    EXECUTED_MARKER.unlink(missing_ok=True)
    cloud, outcome = _run(path, origin)
    assert not EXECUTED_MARKER.exists(), "a YAML tag ran a command"
    if isinstance(expected, Declares):
        assert not isinstance(outcome, ProgramError), f"refused although it should be accepted: {outcome}"
        *_, origin_type = ORIGINS[origin]
        assert origin_type in {r.type for r in outcome.resources}, f"{origin} was not the origin declared"
        declared = {r.name: r for r in outcome.of_type(HOSTNAME)}
        customers = {name: info["customer"] for name, info in outcome.outputs["customerHostnames"].items()}
        assert customers == expected.hostnames and set(declared) == set(expected.hostnames)
        for resource in declared.values():
            assert resource.inputs["hostname"] == resource.name
            for key, value in expected.ssl_settings.items():
                assert resource.inputs["ssl"]["settings"][key] == value
        return None

    assert isinstance(outcome, ProgramError), "accepted although it should be refused"
    assert cloud.created == [], f"declared {cloud.created} although the customers file is refused"
    assert cloud.invokes == [], "looked things up although the customers file is refused"
    message = str(outcome)
    first_line = message.splitlines()[0]
    assert first_line.startswith(f"{path}: ") and first_line.endswith(", no change was made:"), first_line
    where = f"{path}:{expected.line}: " if expected.line is not None else f"{path}: "
    assert message.splitlines()[1].strip().startswith(where), message[:500]
    for text in expected.says:
        assert text in message, f"{text!r} not in {message[:2000]!r}"
    assert "Traceback" not in message
    assert len(message) < 64 * 1024, f"an unreadable {len(message):,}-character error"
    unprintable = {char for char in message if not char.isprintable() and char != "\n"}
    assert not unprintable, f"raw control characters reach the terminal: {unprintable}"
    return message


def test_every_corpus_file_has_one_expected_outcome():
    assert sorted(p.name for p in CORPUS_DIR.iterdir()) == sorted(CORPUS)
    assert len(CORPUS) + len(GENERATED) >= 40
    assert all(p.stat().st_size < 100_000 for p in CORPUS_DIR.iterdir())


@pytest.mark.parametrize("origin", list(ORIGINS))
@pytest.mark.parametrize("name", list(CORPUS))
def test_hostile_file(name, origin):
    _check(CORPUS_DIR / name, CORPUS[name], origin)


@pytest.mark.parametrize("origin", list(ORIGINS))
@pytest.mark.parametrize("name", list(GENERATED))
def test_enormous_file(name, origin, tmp_path):
    make, expected = GENERATED[name]
    path = tmp_path / name
    path.write_text(make(), encoding="utf-8")
    _check(path, expected, origin)


def test_refused_ids_are_not_reported_as_duplicates():
    """Both ids are refused for their YAML tags; they must not also be 'duplicates' of each other."""
    message = _check(CORPUS_DIR / "tag-python-name-and-module.yaml", CORPUS["tag-python-name-and-module.yaml"])
    assert "duplicate id" not in message
