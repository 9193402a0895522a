"""The top-level command line: dispatch, --help, --version, help pages."""
import os
import re

from conftest import run


def test_version():
    p = run("--version", check=0)
    assert re.fullmatch(r"inetkit \d+\.\d+\.\d+\n", p.stdout)


def test_help_lists_subcommands():
    p = run("--help", check=0)
    assert p.stdout.startswith("Usage: inetkit SUBCOMMAND")
    for name in ("addr", "lookup"):
        assert re.search(r"^  %s\s" % name, p.stdout, re.M)


def test_no_arguments_is_usage_error():
    p = run(check=2)
    assert "Usage: inetkit" in p.stderr


def test_unknown_subcommand_exit_2_and_lists_known():
    p = run("frobnicate", check=2)
    assert p.stderr.startswith("inetkit: unknown subcommand 'frobnicate'. Known subcommands:\n")
    assert "  addr " in p.stderr and "  lookup " in p.stderr


def test_help_unknown_subcommand():
    p = run("help", "frobnicate", check=2)
    assert "unknown subcommand 'frobnicate'" in p.stderr


def test_help_shows_man_page():
    p = run("help", "addr", env={"MANWIDTH": "80"}, check=0)
    assert "inetkit-addr" in p.stdout or "INETKIT-ADDR" in p.stdout
    p = run("help", "lookup", check=0)
    assert "lookup" in p.stdout


def test_every_subcommand_has_help_and_man_page():
    docs = os.path.join(os.path.dirname(__file__), "..", "..", "docs")
    for name in ("addr", "lookup"):
        p = run(name, "--help", check=0)
        assert p.stdout.startswith("Usage: inetkit %s" % name), p.stdout
        assert os.path.exists(os.path.join(docs, "inetkit-%s.1" % name))
