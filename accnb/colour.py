"""Terminal colours for build scripts, as the Accelerator's `accelerator.colour`.

    from accnb.colour import bold, red        # or: from accnb import colour
    print(bold("done"), colour("3 failed", "red", "bold"), colour.red("x"))

`colour(text, *attrs)` wraps text in ANSI escapes; every attribute is also a function
(`bold`, `red`, `brightblue`, `greenbg`, `notbold`, ...). Attributes: bold, faint, italic,
underline, blink, invert, strike (each also as not<attr>), the colours black, red, green,
yellow, blue, magenta, cyan, white (with a bright prefix and/or a bg suffix), default and
defaultbg, and '#RRGGBB' or '#RRGGBBbg'.

Not in accnb, of the Accelerator's colour forms (each is a ValueError here): the 256-colour
palette ones, '#RGB' (digits 0-5), '#GG' (a grey, 00-1D) and 'XNN' (a palette index, 00-FF);
names from the config file's [colour] section (e.g. 'build/warning', with its fallback to
'warning', and its '<pre >post' literals); and the upper-case constants (colour.RED +
text + colour.RESET).

Whether to colour follows the Accelerator's rules (https://no-color.org/ and
https://bixense.com/clicolors/), checked at import: CLICOLOR_FORCE other than "0" turns
colour on; else NO_COLOR set (to anything) turns it off; else colour is on when stdout is a
terminal and CLICOLOR is not "0". `enable()` and `disable()` change it later; `force=True`
colours one call regardless.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from typing import Any, overload

__all__ = ["colour", "disable", "enable", "enabled"]

_CODES: dict[str, str] = {
    "BOLD": "1",
    "FAINT": "2",
    "ITALIC": "3",
    "UNDERLINE": "4",
    "BLINK": "5",
    "INVERT": "7",
    "STRIKE": "9",
}
_CODES.update({"NOT" + name: "2" + code for name, code in list(_CODES.items())})
_CODES["NOTBOLD"] = "22"  # 21 is double underline on many terminals
for _num, _name in enumerate(
    ["BLACK", "RED", "GREEN", "YELLOW", "BLUE", "MAGENTA", "CYAN", "WHITE"]
):
    for _prefix, _base in (("", 30), ("BRIGHT", 90)):
        _CODES[_prefix + _name] = str(_base + _num)
        _CODES[_prefix + _name + "BG"] = str(_base + 10 + _num)
_CODES["DEFAULT"] = "39"
_CODES["DEFAULTBG"] = "49"

enabled = False


def enable() -> None:
    """Colour from now on."""
    global enabled
    enabled = True


def disable() -> None:
    """Plain text from now on."""
    global enabled
    enabled = False


@overload
def colour(value: bytes, *attrs: str, reset: bool = False, force: bool = False) -> bytes: ...
@overload
def colour(value: Any, *attrs: str, reset: bool = False, force: bool = False) -> str: ...
def colour(value: Any, *attrs: str, reset: bool = False, force: bool = False) -> str | bytes:
    """`value` (bytes, or anything as str) wrapped in the escapes for `attrs`, when colour is
    enabled.

    Only the attributes set are turned off after it, so colours nest; reset=True resets
    everything before and after instead.
    """
    if not attrs:
        raise TypeError("colour() needs at least one attribute, e.g. colour(text, 'red')")
    if enabled or force:
        on = ["0"] if reset else []
        off = set()
        for attr in attrs:
            want = attr.upper()
            default = _CODES["DEFAULTBG" if want.endswith("BG") else "DEFAULT"]
            if want.startswith("#"):
                on.extend(_rgb(attr, want))
                off.add(default)
            elif want in _CODES:
                on.append(_CODES[want])
                off.add(_CODES.get("NOT" + want, default))
            else:
                raise ValueError(
                    f"unknown colour or attribute {attr!r}: use e.g. 'red', 'brightblue', "
                    "'greenbg', 'bold' or '#RRGGBB'"
                )
        pre = "\x1b[" + ";".join(on) + "m"
        post = "\x1b[m" if reset else "\x1b[" + ";".join(sorted(off)) + "m"
    else:
        pre = post = ""
    if isinstance(value, bytes):
        return pre.encode() + value + post.encode()
    return f"{pre}{value}{post}"


def _rgb(attr: str, want: str) -> list[str]:
    prefix = "38"
    if want.endswith("BG"):
        prefix, want = "48", want[:-2]
    try:
        if len(want) != 7:
            raise ValueError
        r, g, b = (str(int(want[i : i + 2], 16)) for i in (1, 3, 5))
    except ValueError:
        raise ValueError(f"bad colour {attr!r}: write '#RRGGBB' or '#RRGGBBbg' in hex") from None
    return [prefix, "2", r, g, b]


def _attribute(name: str) -> Callable[..., str | bytes]:
    def one(value: Any, reset: bool = False, force: bool = False) -> str | bytes:
        return colour(value, name, reset=reset, force=force)

    one.__name__ = one.__qualname__ = name.lower()
    one.__doc__ = f"`value` in {name.lower()} (see colour)."
    return one


def _isatty(stream: Any) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # None, or closed
        return False


globals().update({name.lower(): _attribute(name) for name in _CODES})
__all__ += sorted(name.lower() for name in _CODES)


class _CallableModule(types.ModuleType):
    """`from accnb import colour; colour(text, "red")`, as the Accelerator's colour object."""

    def __call__(
        self, value: Any, *attrs: str, reset: bool = False, force: bool = False
    ) -> str | bytes:
        return colour(value, *attrs, reset=reset, force=force)


sys.modules[__name__].__class__ = _CallableModule

if os.getenv("CLICOLOR_FORCE", "0") != "0":
    enable()
elif os.getenv("NO_COLOR") is not None:
    disable()
elif os.getenv("CLICOLOR", "1") != "0" and _isatty(sys.stdout):
    enable()
