"""The project's stack files, `Pulumi.<stack>.yaml`: which there are, their settings, the shard layout.

The one place that reads them (the model stays pure: it takes the values, never a file). A stack's
settings are checked by infra/model/settings.py as the program checks them; the shard layout is what
CI deploys and what `diff`, `stacks` and `reshard` read: every stack of role shard whose coreStack
names the same core, their indices distinct and their counts equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.errors import SaasDomainsError
from infra.model.names import bare_stack
from infra.model.settings import (
    ALL_ROLE,
    CORE_ROLE,
    SHARD_ROLE,
    SettingsError,
    StackSettings,
    settings_from_stack_config,
)


class StackFilesError(SaasDomainsError):
    """The stack files do not describe one layout, or one cannot be read; the message says which and why."""


def stack_names(project_dir: Path) -> list[str]:
    """The stacks that have a file in the project, sorted."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in Path(project_dir).glob("Pulumi.*.yaml"))


def read_stack_file(project_dir: Path, stack: str) -> dict[str, Any]:
    """The `config:` mapping of Pulumi.<stack>.yaml, values as YAML typed them (SettingsError otherwise)."""
    path = Path(project_dir) / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise SettingsError(f"{path.name}: no such stack file (stacks here: "
                            f"{', '.join(stack_names(project_dir)) or 'none'})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise SettingsError(f"{path.name}: not readable YAML: {err}") from None
    config = document.get("config", {}) if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise SettingsError(f"{path.name}: `config:` must be a mapping of settings")
    return config


def stack_settings(project_dir: Path, stack: str) -> StackSettings:
    """A stack's settings, checked (SettingsError names the file or the setting)."""
    return settings_from_stack_config(read_stack_file(project_dir, stack))


@dataclass(frozen=True)
class ShardStacks:
    """Shard stacks read from their files: index -> stack name, and the count they all give."""

    stacks: dict[int, str]
    shards: int


def shard_settings(project_dir: Path, keep: Callable[[str, StackSettings], bool] | None = None,
                   names: Iterable[str] | None = None) -> dict[str, StackSettings]:
    """The settings of every stack of role shard (that `keep` accepts), by stack name, in name order:
    the one reading of the shard layout; `shard_stacks` and `reshard` judge it."""
    found = {}
    for name in names if names is not None else stack_names(project_dir):
        settings = stack_settings(project_dir, name)
        if settings.role == SHARD_ROLE and (keep is None or keep(name, settings)):
            found[name] = settings
    return found


def shard_stacks(project_dir: Path, keep: Callable[[str, StackSettings], bool],
                 names: Iterable[str] | None = None, *, core: str | None = None) -> ShardStacks | None:
    """The stacks of role shard that `keep` accepts; None if there is none. Two stacks of one index, or
    counts that disagree, are a StackFilesError (naming `core` when given): a half-edited reshard is
    refused, not deployed."""
    of = f" of {core}" if core else ""
    members: dict[int, str] = {}
    counts: dict[str, int] = {}
    for name, settings in shard_settings(project_dir, keep, names).items():
        if settings.shard in members:
            raise StackFilesError(f"stacks {members[settings.shard]} and {name} are both shard {settings.shard}{of}")
        members[settings.shard] = name
        counts[name] = settings.shards
    if not members:
        return None
    if len(set(counts.values())) > 1:
        raise StackFilesError(f"the shard stacks{of} disagree on saas-domains:shards: "
                              + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
    return ShardStacks(members, next(iter(counts.values())))


@dataclass(frozen=True)
class ShardLayout:
    """A zone's core and shards as the repository's stack files describe them."""

    core: str | None  # the core's stack name, when the repository has its file
    shards: int  # saas-domains:shards, the same in every shard's file
    stacks: dict[int, str]  # shard index -> stack name


def shard_layout(project_dir: Path, stack: str) -> ShardLayout | None:
    """The core and shard stacks `stack` belongs to; None for a single stack (role all)."""
    settings = stack_settings(project_dir, stack)
    if settings.role == ALL_ROLE:
        return None
    core = stack if settings.role == CORE_ROLE else bare_stack(settings.core_stack or "")
    found = shard_stacks(project_dir, lambda _name, other: bare_stack(other.core_stack or "") == core, core=core)
    core_exists = (Path(project_dir) / f"Pulumi.{core}.yaml").is_file()
    return ShardLayout(core=core if core_exists else None, shards=found.shards if found else settings.shards,
                       stacks=found.stacks if found else {})
