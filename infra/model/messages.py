"""How a user's value appears in a message: quoted, and shortened so hostile input stays readable."""

from __future__ import annotations


def show(value: str, limit: int = 80) -> str:
    if len(value) > limit:
        value = value[: limit - 3] + "..."
    return repr(value)
