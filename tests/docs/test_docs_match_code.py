"""README.md and docs/*.md say what the code does: commands, flags, settings, set-up commands and links.

Each test reads the documents as a newcomer would and compares them with the code they describe, so a
renamed command, a removed flag, a new setting or a moved page fails here instead of misleading someone.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import yaml

from infra.cli import build_parser
from infra.model.settings import SETTINGS
from tests.conftest import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DOCS = sorted((PROJECT_ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *DOCS]
OPERATORS = PROJECT_ROOT / "docs" / "operators.md"
SETTINGS_TABLE_HEADER = "| Key (`saas-domains:`) | Default | Meaning |"
README_MAX_LINES = 160


def _relative(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT))


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def flags_of(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


# --- what the documents say ------------------------------------------------------------------------

def code_texts(markdown: str) -> list[str]:
    """Every piece of code a reader may type: each line of a fenced block, and each inline code span."""
    pieces: list[str] = []
    outside: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        (pieces if fenced else outside).append(line)
    prose = "\n".join(outside)
    pieces += re.findall(r"`([^`\n]+)`", prose)
    return pieces


COMMAND = re.compile(r"(?<![\w/.:-])saas-domains ([a-z][a-z_-]*)((?:[^|;&#]|\\\|)*)")


def command_mentions(markdown: str) -> list[tuple[str, list[str]]]:
    """(sub-command, the --flags written after it up to a shell separator) for every `saas-domains X ...`."""
    found = []
    for piece in code_texts(markdown):
        piece = piece.replace("\\|", "\x00")  # a table cell's escaped `|` is an alternative, not a pipe
        for match in COMMAND.finditer(piece):
            rest = match.group(2).replace("\x00", "|")
            found.append((match.group(1), re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-h)\b", rest)))
    return found


def table_rows(markdown: str, header: str) -> list[list[str]]:
    """The cells of each row of the one table that starts with `header`."""
    lines = markdown.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == header]
    assert len(starts) == 1, f"expected exactly one table headed {header!r}, found {len(starts)}"
    rows = []
    for line in lines[starts[0] + 2:]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        rows.append([cell.strip() for cell in cells])
    return rows


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped (not - or _), spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(path: Path) -> set[str]:
    anchors: dict[str, int] = {}
    result = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced or not re.match(r"#{1,6} ", line):
            continue
        slug = github_anchor(line.lstrip("#"))
        count = anchors.get(slug, 0)
        anchors[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def relative_links(markdown: str) -> list[str]:
    prose = "\n".join(_outside_fences(markdown))
    prose = re.sub(r"`[^`\n]*`", "", prose)
    targets = re.findall(r"\]\(([^)\s]+)\)", prose)
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t)]  # http:, https:, mailto:


def _outside_fences(markdown: str) -> list[str]:
    kept, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return kept


def readme_setup_commands() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, flags=re.S)


def ci_lines() -> list[str]:
    text = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def pulumi_yaml_config() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]


# --- (a) commands and flags --------------------------------------------------------------------------

@pytest.mark.parametrize("document", DOCUMENTS, ids=_relative)
def test_every_command_mentioned_is_a_real_sub_command_with_those_flags(document):
    commands = subcommands()
    mentions = command_mentions(document.read_text(encoding="utf-8"))
    for command, flags in mentions:
        assert command in commands, f"{_relative(document)} mentions `saas-domains {command}`, which does not exist"
        unknown = sorted(set(flags) - flags_of(commands[command]))
        assert not unknown, f"{_relative(document)}: `saas-domains {command}` has no {', '.join(unknown)}"


def test_the_readme_commands_table_lists_every_sub_command_once_with_real_flags():
    rows = table_rows(README.read_text(encoding="utf-8"), "| Command | What it does | Detail |")
    commands = subcommands()
    listed = []
    for cells in rows:
        (synopsis,) = re.findall(r"`(saas-domains [^`]+)`", cells[0])
        name = synopsis.split()[1]
        listed.append(name)
        assert name in commands, f"the README's commands table lists {name!r}, which is no sub-command"
        flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", synopsis))
        assert flags <= flags_of(commands[name]), (name, sorted(flags - flags_of(commands[name])))
        assert re.search(r"\]\(docs/[a-z-]+\.md#[a-z0-9-]+\)", cells[2]), f"{name}: the Detail cell links no page"
    assert sorted(listed) == sorted(commands), "the README's commands table and the parser disagree"


def test_the_mention_finder_sees_a_wrong_command_and_a_wrong_flag():
    """The check above can fail: a removed flag or a made-up command is found where people write them."""
    found = command_mentions("Run `saas-domains reshard --to 3 --dry-run`.\n\n```sh\nsaas-domains frobnicate\n```\n"
                             "| `saas-domains validate [--base REF \\| --no-base]` | x |")
    assert ("reshard", ["--to", "--dry-run"]) in found
    assert ("frobnicate", []) in found
    assert ("validate", ["--base", "--no-base"]) in found
    assert "--dry-run" not in flags_of(subcommands()["reshard"])


# --- (b) settings -------------------------------------------------------------------------------------

def test_the_settings_reference_lists_exactly_the_settings_the_code_knows_with_their_defaults():
    rows = table_rows(OPERATORS.read_text(encoding="utf-8"), SETTINGS_TABLE_HEADER)
    documented = {}
    for key_cell, default_cell, _meaning in rows:
        (key,) = re.findall(r"^`([A-Za-z]+)`$", key_cell)
        assert key not in documented, f"{key} has two rows"
        documented[key] = default_cell
    code = {setting.key: setting for setting in SETTINGS}
    declared = pulumi_yaml_config()
    assert set(documented) == set(code) == set(declared)
    for key, cell in documented.items():
        if code[key].required:
            assert cell == "required" and "default" not in declared[key], key
            continue
        (literal,) = re.findall(r"^`([^`]*)`$", cell)
        assert yaml.safe_load(literal) == declared[key]["default"], (key, cell, declared[key]["default"])


def test_the_readmes_required_settings_are_settings_of_the_code_and_include_every_required_one():
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## First deploy of your own zone", 1)[1].split("\n## ", 1)[0]
    set_keys = set(re.findall(r"pulumi config set (?:--secret )?saas-domains:([A-Za-z]+)", section))
    code = {setting.key for setting in SETTINGS}
    assert set_keys, "the first deploy sets no saas-domains setting"
    assert set_keys <= code, sorted(set_keys - code)
    assert {s.key for s in SETTINGS if s.required} <= set_keys


@pytest.mark.parametrize("document", DOCUMENTS, ids=_relative)
def test_every_saas_domains_key_written_is_a_setting(document):
    text = document.read_text(encoding="utf-8")
    keys = set(re.findall(r"saas-domains:([A-Za-z][\w-]*)", text)) - {"status-issue"}  # the marker
    unknown = keys - {setting.key for setting in SETTINGS}
    assert not unknown, f"{_relative(document)} names settings that do not exist: {sorted(unknown)}"


# --- (c) the set-up commands are what CI runs ---------------------------------------------------------

def test_the_readme_has_the_two_set_up_commands_ci_runs():
    commands = readme_setup_commands()
    assert len(commands) == 2, commands
    first, second = commands
    ci = ci_lines()
    steps = first.split(" && ")
    assert steps[-1] == "saas-domains plan"
    install = steps[:-1]
    assert all(step in ci for step in install), [step for step in install if step not in ci]
    assert [ci.index(step) for step in install] == sorted(ci.index(step) for step in install)
    assert second == "pytest" == ci[-1]


# --- (d) links ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("document", DOCUMENTS, ids=_relative)
def test_every_relative_link_points_at_an_existing_file_and_heading(document):
    problems = []
    for target in relative_links(document.read_text(encoding="utf-8")):
        path_part, _, anchor = target.partition("#")
        path = (document.parent / path_part).resolve() if path_part else document
        if not path.exists():
            problems.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors_of(path):
            problems.append(f"{target}: no heading #{anchor} in {_relative(path)}")
    assert not problems, f"{_relative(document)}: " + "; ".join(problems)


def test_the_link_checker_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## A heading: `code`, and more\n\n[x](missing.md) [y](#a-heading-code-and-more)\n"
                    "[z](#no-such) [w](https://example.com) `[v](not-a-link.md)`\n")
    assert relative_links(page.read_text()) == ["missing.md", "#a-heading-code-and-more", "#no-such"]
    assert anchors_of(page) == {"title", "a-heading-code-and-more"}
    assert not (tmp_path / "missing.md").exists()


def test_every_docs_page_is_linked_from_the_readme():
    readme = README.read_text(encoding="utf-8")
    for page in DOCS:
        assert f"](docs/{page.name})" in readme, f"the README's 'where to go next' does not link {page.name}"


def test_the_readme_stays_a_short_front_door():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines: move detail into docs/"
