"""What chat callers type, made safe to show to others: :func:`clean_text` and the rules
for names (no sockets here).

The chat server (:mod:`tcplessons.chat`), the course's room (:mod:`tcplessons.chat_room`),
the chat clients (:mod:`tcplessons.chat_client`) and the event-loop chat servers
(:mod:`tcplessons.loopchat`) all read lines through these.
"""

from __future__ import annotations

import re

__all__ = ["clean_text"]

#: The longest line (in bytes, without its newline) the server accepts.
MAX_LINE = 64 * 1024
#: The longest name, in characters.
MAX_NAME = 32
#: How many names a caller may try before the server hangs up.
NAME_TRIES = 5

WELCOME = "* welcome: type your name and press Enter"


# Control characters could ring bells, clear screens or recolour terminals of everyone
# in the room (escape sequences), or hide text (NUL, bidirectional overrides).  They
# never reach another member.  A tab becomes a space.
_UNSAFE = {c: None for c in range(0x20)}
_UNSAFE[0x7F] = None
_UNSAFE.update({c: None for c in range(0x80, 0xA0)})
_UNSAFE.update({c: None for c in (0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF)})
_UNSAFE.update({c: None for c in range(0x202A, 0x202F)})
_UNSAFE.update({c: None for c in range(0x2066, 0x206A)})
_UNSAFE[0x09] = " "
# Whole escape sequences go, not just their ESC: "\x1b[2J" (clear screen) leaves nothing.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def clean_text(data: bytes | str) -> str:
    """Bytes from a caller, made safe to show to others.

    Invalid UTF-8 becomes U+FFFD (the replacement character); control characters are
    removed; tabs become spaces.
    """
    text = data.decode("utf-8", errors="replace") if isinstance(data, (bytes, bytearray)) else data
    return _ESCAPES.sub("", text).translate(_UNSAFE)


def _check_name(name: str) -> str | None:
    """Why ``name`` cannot be used (None if it can)."""
    if not name:
        return "a name cannot be empty: type your name and press Enter"
    if any(ch.isspace() for ch in name):
        return f"a name cannot contain spaces: try {'_'.join(name.split())!r}"
    if len(name) > MAX_NAME:
        return f"a name has at most {MAX_NAME} characters: try a shorter one"
    return None
