"""Replays every dialogue in tests/transcripts/<service>/*.t against a live
server (see transcript.py for the format). Transcripts that need the same
config and accounts share one server."""
import glob
import os

import pytest

from conftest import ROOT
from ftpd_env import PASSWORD, Ftpd
from smtpd_env import PASSWORD as SMTP_PASSWORD
from smtpd_env import Smtpd
from pop3d_env import NO_LOCKOUT as POP3_NO_LOCKOUT
from pop3d_env import PASSWORD as POP3_PASSWORD
from pop3d_env import Pop3d
from imapd_env import PASSWORD as IMAP_PASSWORD
from imapd_env import Imapd
from transcript import Replay, Transcript

FTP = sorted(glob.glob(os.path.join(ROOT, "tests", "transcripts", "ftp", "*.t")))
SMTP = sorted(glob.glob(os.path.join(ROOT, "tests", "transcripts", "smtp", "*.t")))
POP3 = sorted(glob.glob(os.path.join(ROOT, "tests", "transcripts", "pop3", "*.t")))
IMAP = sorted(glob.glob(os.path.join(ROOT, "tests", "transcripts", "imap", "*.t")))


@pytest.fixture(scope="module")
def ftpd_pool(tmp_path_factory):
    servers = {}

    def get(t):
        key = (tuple(t.config), tuple(t.users))
        if key not in servers:
            base = tmp_path_factory.mktemp("ftpd-transcript")
            # the keys the test server writes itself are passed as arguments
            anonymous = "anonymous = no" not in t.config
            extra = "".join(line + "\n" for line in t.config if line != "anonymous = no")
            servers[key] = Ftpd(base, extra=extra, users=t.users, anonymous=anonymous)
        return servers[key]

    yield get
    for s in servers.values():
        s.stop()


def test_there_are_ftp_transcripts():
    assert len(FTP) >= 20


@pytest.mark.parametrize("path", FTP, ids=[os.path.basename(p)[:-2] for p in FTP])
def test_ftp_transcript(path, ftpd_pool):
    t = Transcript(path)
    server = ftpd_pool(t)
    try:
        Replay(t, "127.0.0.1", server.port, PASSWORD).run()
    except AssertionError as e:
        raise AssertionError("%s\n--- server log (tail):\n%s" % (e, server.log()[-2000:])) from None


@pytest.fixture(scope="module")
def smtpd_pool(tmp_path_factory):
    servers = {}

    def get(t):
        key = (tuple(t.config), tuple(t.users))
        if key not in servers:
            base = tmp_path_factory.mktemp("smtpd-transcript")
            keys = {}
            for line in t.config:
                k, _, v = line.partition("=")
                keys[k.strip()] = v.strip()
            servers[key] = Smtpd(base, smtp=keys, users=t.users or ("alice", "bob"))
        return servers[key]

    yield get
    for s in servers.values():
        s.stop()


def test_there_are_smtp_transcripts():
    assert len(SMTP) >= 20


@pytest.mark.parametrize("path", SMTP, ids=[os.path.basename(p)[:-2] for p in SMTP])
def test_smtp_transcript(path, smtpd_pool):
    t = Transcript(path)
    server = smtpd_pool(t)
    ports = {"listen": server.port, "submission": server.sub_port,
             "submissions": server.subs_port}
    assert (t.port or "listen") in ports, "%s: @port %s: not an SMTP listener" % (path, t.port)
    try:
        Replay(t, "127.0.0.1", ports[t.port or "listen"], SMTP_PASSWORD).run()
    except AssertionError as e:
        raise AssertionError("%s\n--- server log (tail):\n%s" % (e, server.log()[-2000:])) from None


@pytest.fixture(scope="module")
def pop3d_pool(tmp_path_factory):
    servers = {}

    def get(t):
        key = (tuple(t.config), tuple(t.users))
        if key not in servers:
            base = tmp_path_factory.mktemp("pop3d-transcript")
            keys = {}
            for line in t.config:
                k, _, v = line.partition("=")
                keys[k.strip()] = v.strip()
            servers[key] = Pop3d(base, pop3=keys, users=t.users or ("alice",),
                                 accounts=POP3_NO_LOCKOUT)
        return servers[key]

    yield get
    for s in servers.values():
        s.stop()


def test_there_are_pop3_transcripts():
    assert len(POP3) >= 15


@pytest.mark.parametrize("path", POP3, ids=[os.path.basename(p)[:-2] for p in POP3])
def test_pop3_transcript(path, pop3d_pool):
    t = Transcript(path)
    server = pop3d_pool(t)
    ports = {"listen": server.port, "implicit_tls": server.tls_port}
    assert (t.port or "listen") in ports, "%s: @port %s: not a POP3 listener" % (path, t.port)
    try:
        Replay(t, "127.0.0.1", ports[t.port or "listen"], POP3_PASSWORD).run()
    except AssertionError as e:
        raise AssertionError("%s\n--- server log (tail):\n%s" % (e, server.log()[-2000:])) from None


@pytest.fixture(scope="module")
def imapd_pool(tmp_path_factory):
    servers = {}

    def get(t):
        key = (tuple(t.config), tuple(t.users))
        if key not in servers:
            base = tmp_path_factory.mktemp("imapd-transcript")
            keys = {}
            for line in t.config:
                k, _, v = line.partition("=")
                keys[k.strip()] = v.strip()
            servers[key] = Imapd(base, imap=keys, users=t.users or ("alice", "bob"))
        return servers[key]

    yield get
    for s in servers.values():
        s.stop()


def test_there_are_imap_transcripts():
    assert len(IMAP) >= 10


@pytest.mark.parametrize("path", IMAP, ids=[os.path.basename(p)[:-2] for p in IMAP])
def test_imap_transcript(path, imapd_pool):
    t = Transcript(path)
    server = imapd_pool(t)
    ports = {"listen": server.port, "tls": server.tls_port}
    assert (t.port or "listen") in ports, "%s: @port %s: not an IMAP listener" % (path, t.port)
    try:
        Replay(t, "127.0.0.1", ports[t.port or "listen"], IMAP_PASSWORD).run()
    except AssertionError as e:
        raise AssertionError("%s\n--- server log (tail):\n%s" % (e, server.log()[-2000:])) from None
