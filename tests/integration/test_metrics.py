"""The [metrics] service: Prometheus text format over HTTP (read with
urllib and curl) and the health check a load balancer uses. Counters are
shared by the worker processes: the SMTP server runs with two workers and
the sums cover both."""
import smtplib
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import BIN, free_port
from smtpd_env import PASSWORD, Smtpd, plain_token, tls_context


def scrape(port, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return r.status, r.headers, r.read().decode()


def values(text):
    """{'name{labels}': value} of the sample lines."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = int(value)
    return out


class Served(Smtpd):
    """[smtp] and [metrics] under `inetkit serve` (`inetkit smtpd` runs
    its own section only)."""

    def start(self):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve", "--config", self.conf],
                                     stdout=self.logf, stderr=self.logf,
                                     start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise


@pytest.fixture
def smtpd(tmp_path):
    mport = free_port()
    srv = Served(tmp_path, workers=2, accounts={"lockout_failures": "0",
                                               "lockout_ip_failures": "0"},
                extra="[metrics]\nlisten = 127.0.0.1:%d\n" % mport)
    srv.metrics_port = mport
    yield srv
    srv.stop()


def test_metrics_count_sessions_logins_messages_and_bytes(smtpd):
    status, headers, text = scrape(smtpd.metrics_port)
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    before = values(text)
    # the families a scraper expects, all present from the start
    for family in ("inetkit_sessions_total", "inetkit_sessions_open", "inetkit_logins_total",
                   "inetkit_messages_total", "inetkit_bytes_total", "inetkit_errors_total",
                   "inetkit_queue_messages"):
        assert "# TYPE %s " % family in text
    assert before['inetkit_messages_total{service="smtp",outcome="deferred"}'] == 0
    assert before['inetkit_messages_total{service="smtp",outcome="bounced"}'] == 0
    # three sessions, spread over the two workers by the kernel
    for i in range(3):
        with smtplib.SMTP("127.0.0.1", smtpd.port, timeout=10) as c:
            c.sendmail("a@client.example", ["alice@example.test"],
                       "Subject: %d\r\n\r\nbody %d\r\n" % (i, i))
    with smtplib.SMTP("127.0.0.1", smtpd.sub_port, timeout=10) as c:
        c.starttls(context=tls_context())
        c.ehlo()
        # one attempt (smtplib.login would try each mechanism in turn)
        assert c.docmd("AUTH", "PLAIN " + plain_token("alice", "wrong"))[0] == 535
        c.login("alice", PASSWORD)
    deadline = time.monotonic() + 10
    while True:
        after = values(scrape(smtpd.metrics_port)[2])
        if after['inetkit_sessions_open{service="smtp"}'] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)

    def grew(key):
        return after[key] - before.get(key, 0)
    assert grew('inetkit_sessions_total{service="smtp"}') == 4
    assert after['inetkit_sessions_open{service="smtp"}'] == 0
    assert grew('inetkit_messages_total{service="smtp",outcome="accepted"}') == 3
    assert grew('inetkit_messages_total{service="smtp",outcome="delivered"}') == 3
    logins_ok = sum(v for k, v in after.items()
                    if k.startswith("inetkit_logins_total") and 'result="ok"' in k)
    logins_failed = sum(v for k, v in after.items()
                        if k.startswith("inetkit_logins_total") and 'result="failed"' in k)
    assert (logins_ok, logins_failed) == (1, 1)
    assert grew('inetkit_bytes_total{service="smtp",direction="in"}') > 3 * len("body 0")
    assert grew('inetkit_bytes_total{service="smtp",direction="out"}') > 0
    assert after["inetkit_queue_messages"] == 0
    assert after["inetkit_errors_total"] == 0


def test_health_and_http_errors(smtpd):
    port = smtpd.metrics_port
    status, headers, text = scrape(port, "/health")
    assert (status, text) == (200, "ok\n")
    # what HAProxy's `option httpchk` sends, and HEAD with curl
    p = subprocess.run(["curl", "-sI", "http://127.0.0.1:%d/health" % port],
                       capture_output=True, text=True, timeout=20)
    assert p.stdout.startswith("HTTP/1.1 200 OK\n")
    assert "Content-Length: 3\n" in p.stdout
    with pytest.raises(urllib.error.HTTPError) as ex:
        scrape(port, "/nothing")
    assert ex.value.code == 404
    req = urllib.request.Request("http://127.0.0.1:%d/metrics" % port, data=b"x",
                                 method="POST")
    with pytest.raises(urllib.error.HTTPError) as ex:
        urllib.request.urlopen(req, timeout=10)
    assert ex.value.code == 405 and ex.value.headers["Allow"] == "GET, HEAD"
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GARBAGE\r\n\r\n")
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    assert got.startswith(b"HTTP/1.1 400 Bad Request\r\n")
