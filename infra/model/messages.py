"""How a user's value appears in a message: quoted, and shortened so hostile input stays readable."""

from __future__ import annotations


def show(value: str, limit: int = 80) -> str:
    if len(value) > limit:
        value = value[: limit - 3] + "..."
    return repr(value)


def code(text: str, limit: int = 60) -> str:
    """Text to write or to remove, in backticks; as `show` gives it when a terminal would act on it."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"`{text}`" if text.isprintable() and "`" not in text else show(text)


def listed_with_and(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
