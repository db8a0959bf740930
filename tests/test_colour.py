"""accnb.colour: the Accelerator's colour functions, on only when they should be."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from accnb import colour


@pytest.fixture
def coloured():
    was = colour.enabled
    colour.enable()
    yield
    (colour.enable if was else colour.disable)()


def test_an_attribute_function_wraps_text_and_turns_only_that_attribute_off(coloured):
    assert colour.bold("x") == "\x1b[1mx\x1b[22m"
    assert colour.red("x") == "\x1b[31mx\x1b[39m"
    assert colour.brightbluebg("x") == "\x1b[104mx\x1b[49m"


def test_colour_combines_attributes_in_one_sequence(coloured):
    assert colour.colour("x", "red", "bold") == "\x1b[31;1mx\x1b[22;39m"


def test_the_module_itself_is_callable_as_the_accelerators_colour_object(coloured):
    assert colour("x", "green") == "\x1b[32mx\x1b[39m"


def test_rgb_colours_and_reset(coloured):
    assert colour.colour("x", "#ff8000", reset=True) == "\x1b[0;38;2;255;128;0mx\x1b[m"
    assert colour.colour("x", "#000010bg") == "\x1b[48;2;0;0;16mx\x1b[49m"


def test_bytes_stay_bytes(coloured):
    assert colour.bold(b"x") == b"\x1b[1mx\x1b[22m"


def test_disabled_returns_the_text_unchanged_unless_forced():
    was = colour.enabled
    colour.disable()
    try:
        assert colour.bold("x") == "x"
        assert colour.colour(3, "red") == "3"
        assert colour.bold("x", force=True) == "\x1b[1mx\x1b[22m"
    finally:
        (colour.enable if was else colour.disable)()


@pytest.mark.parametrize("attrs", [(), ("purple",), ("#12345",), ("#gg0000",)])
def test_a_bad_attribute_is_an_error_naming_it(attrs):
    with pytest.raises((TypeError, ValueError), match="attribute|colour"):
        colour.colour("x", *attrs, force=True)


def _enabled_in_child(env: dict, tty: bool) -> str:
    """colour.enabled in a fresh interpreter whose stdout is a terminal or a pipe."""
    code = "import accnb.colour as c, sys; sys.stderr.write(str(c.enabled))"
    environ = {
        k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE")
    }
    environ.update(env)
    if tty:
        import pty

        leader, follower = pty.openpty()
        try:
            done = subprocess.run(
                [sys.executable, "-c", code], stdout=follower, stderr=subprocess.PIPE, env=environ
            )
        finally:
            os.close(leader)
            os.close(follower)
    else:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, env=environ, check=True
        )
    return done.stderr.decode()


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, True, "True"),
        ({}, False, "False"),
        ({"NO_COLOR": ""}, True, "False"),
        ({"CLICOLOR": "0"}, True, "False"),
        ({"CLICOLOR_FORCE": "1"}, False, "True"),
        ({"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, False, "True"),
    ],
)
def test_colour_is_on_for_a_terminal_unless_no_color_as_the_accelerator_decides(env, tty, expected):
    assert _enabled_in_child(env, tty) == expected


def test_the_public_functions_have_type_hints():
    import typing

    for function in (colour.colour, colour.red):
        assert {"value", "return"} <= set(typing.get_type_hints(function))
    for function in (colour.enable, colour.disable):
        assert "return" in typing.get_type_hints(function)


@pytest.mark.parametrize("attr", ["#123", "#1D", "X10"])
def test_the_accelerators_256_colour_forms_are_errors_the_docstring_names(coloured, attr):
    with pytest.raises(ValueError, match=attr):
        colour.colour("x", attr)
    for form in ("'#RGB'", "'#GG'", "'XNN'", "[colour]"):
        assert form in colour.__doc__
