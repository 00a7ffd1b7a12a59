"""Writing a file the next step reads, all at once or not at all."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from infra.errors import OperationError


class FileWriteError(OperationError):
    """A file the command was asked to write could not be written; the message names it and why."""


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: a temporary file beside it, then a rename.

    A reader (or the next run) sees the old file or the new one, never half of one, and a failure
    (a full disk, an interruption) leaves the old file as it was. An existing file's permissions stay.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_json_document(path: Path, document: Any, what: str) -> None:
    """A JSON document for the next step or run (`status --save-report`, `status-issue --save-state`),
    written only once everything it holds was read, and atomically."""
    try:
        write_atomically(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    except OSError as err:
        raise FileWriteError(f"cannot write {what} to {path}: {err.strerror or err}") from None
