"""The top-level command line: dispatch, --help, --version, help pages."""
import os
import re

from conftest import ROOT, run


def subcommands():
    """The subcommands `inetkit --help` lists."""
    p = run("--help", check=0)
    return re.findall(r"^  (\S+)\s", p.stdout.split("Subcommands:\n", 1)[1], re.M)


def test_version():
    p = run("--version", check=0)
    assert re.fullmatch(r"inetkit \d+\.\d+\.\d+\n", p.stdout)


def test_help_lists_subcommands():
    p = run("--help", check=0)
    assert p.stdout.startswith("Usage: inetkit SUBCOMMAND")
    names = subcommands()
    for name in ("addr", "lookup", "tcp", "udp", "ftp", "ftpd", "user", "serve"):
        assert name in names


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
    docs = os.path.join(ROOT, "docs")
    for name in subcommands():
        p = run(name, "--help", check=0)
        assert p.stdout.startswith("Usage: inetkit %s" % name), (name, p.stdout[:200])
        pages = [f for f in ("inetkit-%s.1" % name, "inetkit-%s.8" % name)
                 if os.path.exists(os.path.join(docs, f))]
        assert pages, "no manual page docs/inetkit-%s.[18]" % name
        h = run("help", name, env={"MANWIDTH": "80"}, check=0)
        assert name in h.stdout.lower()
