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
    for name in ("addr", "lookup", "tcp", "udp", "ftp", "ftpd", "user", "queue", "serve"):
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


def test_help_conf_shows_the_config_reference():
    """`inetkit help conf` (and `help inetkit.conf`) opens inetkit.conf(5),
    the page every config error points to."""
    for topic in ("conf", "inetkit.conf"):
        p = run("help", topic, env={"MANWIDTH": "80"}, check=0)
        assert p.stdout.startswith("INETKIT.CONF(5)")
        assert "[tcp-echo]" in p.stdout and "state_dir" in p.stdout
    p = run("--help", check=0)
    assert "inetkit help conf" in p.stdout


def test_help_conf_without_the_page(tmp_path):
    """With man(1) unable to show it, the message says where the page is."""
    os.symlink("/bin/false", tmp_path / "man")
    p = run("help", "conf", env={"PATH": str(tmp_path)}, check=1)
    assert p.stderr.startswith("inetkit help: cannot show ")
    assert p.stderr.endswith("inetkit.conf.5 with man(1); read the file itself, or install "
                             "man-db\n")


def test_unknown_subcommand_suggests_the_nearest():
    p = run("adr", "1.2.3.4", check=2)
    assert p.stderr.startswith("inetkit: unknown subcommand 'adr'. Known subcommands:\n")
    assert p.stderr.endswith("\nDid you mean 'addr'?\nRun 'inetkit --help' for more.\n")
    p = run("help", "lokup", check=2)
    assert p.stderr.endswith("\nDid you mean 'lookup'?\n")
    p = run("help", "cnf", check=2)
    assert p.stderr.endswith("Other pages: inetkit help conf (the configuration file)\n"
                             "Did you mean 'conf'?\n")
    p = run("frobnicate", check=2)
    assert "Did you mean" not in p.stderr


# (argv, the first line of the error, the suggestion) for an unknown verb of
# every subcommand that has verbs, and an unknown long option of each tool.
TYPOS = [
    (["lookup", "hots", "localhost"],
     "inetkit lookup: unknown lookup 'hots': use host, addr, service, proto or hostname",
     "host"),
    (["lookup", "service", "--prto", "tcp", "http"],
     "inetkit lookup: unknown option '--prto' for 'lookup service'", "--proto"),
    (["tcp", "lisen", "127.0.0.1:7"],
     "inetkit tcp: unknown action 'lisen': use listen, relay, connect or bench", "listen"),
    (["tcp", "listen", "--dicard", "127.0.0.1:7"], "inetkit tcp: unknown option '--dicard'",
     "--discard"),
    (["tcp", "connect", "--hx", "127.0.0.1", "7"], "inetkit tcp: unknown option '--hx'", "--hex"),
    (["tcp", "bench", "--durration", "1", "127.0.0.1", "7"],
     "inetkit tcp: unknown option '--durration'", "--duration"),
    (["udp", "sned", "127.0.0.1", "7", "x"],
     "inetkit udp: unknown action 'sned': use listen, send, relay, scan or bench", "send"),
    (["udp", "listen", "--eco", "127.0.0.1:7"], "inetkit udp: unknown option '--eco'", "--echo"),
    (["ftp", "gett", "ftp://127.0.0.1/x"], "inetkit ftp: unknown verb 'gett'", "get"),
    (["ftp", "--quite", "ls", "ftp://127.0.0.1/"], "inetkit ftp: unknown option '--quite'",
     "--quiet"),
    (["user", "ad", "alice"], "inetkit user: unknown verb 'ad'", "add"),
    (["user", "tokn", "add", "alice"], "inetkit user: unknown verb 'tokn'", "token"),
    (["user", "token", "ad", "alice"],
     "inetkit user: unknown verb 'token ad' (use add, list or revoke)", "token add"),
    (["user", "list", "--jsn"], "inetkit user: unknown option '--jsn'", "--json"),
    (["serve", "--chek"], "inetkit serve: unknown option '--chek'", "--check"),
    (["ftpd", "--lisen", "127.0.0.1:21"], "inetkit ftpd: unknown option '--lisen'", "--listen"),
    (["addr", "sumarize", "10.0.0.0/24"],
     "inetkit addr: 'sumarize' is neither an address nor a verb (split, contains, summarize, "
     "aton, ntoa)", "summarize"),
]


def test_typos_get_did_you_mean():
    for argv, first, near in TYPOS:
        p = run(*argv, check=2)
        cmd = argv[0]
        assert p.stderr == "%s\nDid you mean '%s'?\nTry 'inetkit %s --help'.\n" % (
            first, near, cmd), argv


def test_no_suggestion_when_nothing_is_near():
    p = run("tcp", "frobnicate", check=2)
    assert p.stderr == ("inetkit tcp: unknown action 'frobnicate': use listen, relay, connect or "
                        "bench\nTry 'inetkit tcp --help'.\n")
    p = run("serve", "--zzzzzz", check=2)
    assert p.stderr == "inetkit serve: unknown option '--zzzzzz'\nTry 'inetkit serve --help'.\n"


def test_ftp_shell_command_typo():
    p = run("ftp", "open", "-c", "lss", check=2)
    assert p.stderr == "inetkit ftp: unknown command 'lss'; did you mean 'ls'? (try 'help')\n"
    p = run("ftp", "open", "-c", "frob", check=2)
    assert p.stderr == "inetkit ftp: unknown command 'frob' (try 'help')\n"
