"""The command line as a user meets it: help written for people, every option explained."""

from __future__ import annotations

import argparse

import pytest

from helpers import run_cli
from ptbench.cli import build_parser


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_of_every_command_has_help_and_no_docstring_markup():
    parser = build_parser()
    assert "``" not in parser.description and parser.description.startswith("ptbench: time")
    for name, command in subcommands().items():
        assert "``" not in (command.description or ""), name
        unexplained = [a.dest for a in command._actions if not a.help]
        assert unexplained == [], f"{name}: {unexplained}"


def test_help_shows_each_default_once(capsys):
    status, out, _err = run_cli(capsys, "ab", "--help")
    assert status == 0
    assert "(default: 1.1)" in out and "(default: 600.0)" in out and "(default: default)" in out
    assert "(default: False)" not in out and "(600)" not in out


def test_no_option_says_its_default_twice():
    """An option whose own text already says its default gets no second one (explain's
    --rounds read "(default: 4) (default: 4)")."""
    twice = [
        f"{name} {action.option_strings[0]}"
        for name, command in subcommands().items()
        for action in command._actions
        if action.option_strings and action.help
        and command.formatter_class("x")._get_help_string(action).count("(default:") > 1
    ]  # fmt: skip
    assert twice == []


def test_every_optional_value_says_what_happens_without_it():
    """An option that takes a value and may be left out says its default, or what leaving it
    out does: a newcomer reads --help, not the code."""
    silent = [
        f"{name} {action.option_strings[0]}"
        for name, command in subcommands().items()
        for action in command._actions
        if action.option_strings and not action.required and action.nargs != 0
        and "default" not in command.formatter_class("x")._get_help_string(action)
        and "instead of" not in action.help
    ]  # fmt: skip
    assert silent == []


@pytest.mark.parametrize("flags", [["--probe"], ["--results", "somewhere"]])
def test_machine_options_that_need_write_are_refused_not_ignored(capsys, flags):
    status, out, err = run_cli(capsys, "machine", *flags)
    assert status == 2 and out == ""
    assert f"{flags[0]} needs --write" in err and len(err.strip().splitlines()) == 1


# A command whose work is done prints a progress line on stderr, then exits 0.
PROGRESS_THEN_OK = ("import sys\nimport ptbench.cli as cli\n"
                    "cli.main = lambda: (print('1/1', file=sys.stderr, flush=True), 0)[1]\n"
                    "cli.run()")  # fmt: skip


@pytest.mark.parametrize("stderr", ["full", "closed"])
def test_a_stderr_that_cannot_be_written_loses_lines_not_the_exit_status(stderr):
    """Hostile pass nine: with stderr on a full disk a progress line ended a finished report in
    an internal error (3), and with stderr closed Python sends ``print(file=sys.stderr)`` to
    stdout, into a ``--format json`` document."""
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        finished = subprocess.run(
            [sys.executable, "-c", PROGRESS_THEN_OK], stdout=subprocess.PIPE, text=True,
            stderr=full if stderr == "full" else None,
            preexec_fn=None if stderr == "full" else (lambda: __import__("os").close(2)),
        )  # fmt: skip
    assert (finished.returncode, finished.stdout) == (0, "")
