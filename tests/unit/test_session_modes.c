/* The session core's input modes beyond plain lines: the DATA body scanner
 * on its own, then data, counted and sasl modes, the run-time limits and
 * the last reply before closing, over real sessions on socketpairs (the
 * fixtures of session_fixture.h). A small made-up protocol drives them:
 * DATA, BDAT n, SKIP n, AUTH, QUIT, MAXLINE n, IDLE ms; anything else is
 * answered "250 <line>". */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/session.h"
#include "lib/str.h"
#include "session_fixture.h"

/* ---- the scanner ---- */

struct fed {
	char out[4096];
	size_t nout;
	size_t end_at;		/* input bytes up to and with the end marker; 0: none */
	struct session_datascan ds;
};

/* Feed in[0, n) to the scanner step bytes at a time, as a network would,
 * keeping what it leaves unconsumed, as the session does. */
static void feed(struct fed *f, uint64_t max, const char *in, size_t n, size_t step)
{
	memset(f, 0, sizeof *f);
	f->ds.max = max;
	char buf[4096];
	size_t have = 0, pos = 0, gone = 0;
	while (pos < n || have > 0) {
		size_t add = n - pos < step ? n - pos : step;
		memcpy(buf + have, in + pos, add);
		have += add;
		pos += add;
		for (;;) {
			size_t used, chunk;
			enum session_data_status st = session_data_scan(&f->ds, buf, have, &used, &chunk);
			assert_true(chunk <= used && used <= have);
			memcpy(f->out + f->nout, buf, chunk);
			f->nout += chunk;
			memmove(buf, buf + used, have - used);
			have -= used;
			gone += used;
			if (st == SESSION_DATA_END) {
				f->end_at = gone;
				return;
			}
			if (used == 0) {
				assert_true(have < 3);
				break;
			}
		}
		if (add == 0)
			return;		/* the input ended without the marker */
	}
}

static void data_scan_unstuffs_up_to_the_end(void **state)
{
	(void)state;
	struct fed f;
	const char in[] = "Subject: x\r\n\r\n..dots\r\n.one\r\nlast\r\n.\r\nNOOP\r\n";
	feed(&f, 0, in, sizeof in - 1, 4096);
	assert_int_equal(f.nout, 32);
	assert_memory_equal(f.out, "Subject: x\r\n\r\n.dots\r\none\r\nlast\r\n", 32);
	assert_int_equal(f.end_at, sizeof in - 1 - 6);	/* "NOOP\r\n" is not the body's */
	assert_int_equal(f.ds.body.size, 32);
	assert_int_equal(f.ds.body.flags, 0);
	/* The DATA command's CRLF counts: ".\r\n" at once is an empty body. */
	feed(&f, 0, ".\r\n", 3, 1);
	assert_int_equal(f.end_at, 3);
	assert_int_equal(f.nout, 0);
	/* Whatever the pieces, the same body. */
	for (size_t step = 1; step < 8; step++) {
		feed(&f, 0, in, sizeof in - 1, step);
		assert_int_equal(f.nout, 32);
		assert_memory_equal(f.out, "Subject: x\r\n\r\n.dots\r\none\r\nlast\r\n", 32);
		assert_int_equal(f.end_at, sizeof in - 1 - 6);
	}
}

/* RFC 5321 2.3.8 and the SMTP smuggling attack: only CRLF "." CRLF ends a
 * body; the lenient markers are body bytes, counted and flagged. */
static void data_scan_smuggling_markers_are_body(void **state)
{
	(void)state;
	struct fed f;
	const char in[] = "a\n.\nb\r.\nc\r\n.\nd\n.\r\ne\r\n.\r\n";
	feed(&f, 0, in, sizeof in - 1, 4096);
	assert_int_equal(f.end_at, sizeof in - 1);
	/* "\r\n.\n" loses its dot (a line starting with one); the others are
	 * no line start at all. */
	const char want[] = "a\n.\nb\r.\nc\r\n\nd\n.\r\ne\r\n";
	assert_int_equal(f.nout, sizeof want - 1);
	assert_memory_equal(f.out, want, sizeof want - 1);
	assert_int_equal(f.ds.body.flags, SESSION_BODY_BARE_CR | SESSION_BODY_BARE_LF);
	assert_int_equal(f.ds.body.bare_lf, 5);
	assert_int_equal(f.ds.body.bare_cr, 1);
	const char nul[] = "x\0y\r\r\n.\r\n";
	feed(&f, 0, nul, sizeof nul - 1, 1);
	assert_int_equal(f.ds.body.flags, SESSION_BODY_NUL | SESSION_BODY_BARE_CR);
	assert_int_equal(f.ds.body.nul, 1);
	assert_int_equal(f.ds.body.bare_cr, 1);
	assert_int_equal(f.nout, 6);
}

static void data_scan_limit_while_reading(void **state)
{
	(void)state;
	struct fed f;
	const char in[] = "0123456789\r\n..x\r\n.\r\n";
	for (size_t step = 1; step < 6; step++) {
		feed(&f, 5, in, sizeof in - 1, step);
		assert_int_equal(f.nout, 5);	/* never more than the limit */
		assert_memory_equal(f.out, "01234", 5);
		assert_int_equal(f.ds.body.size, 16);	/* what the body had, unstuffed */
		assert_int_equal(f.ds.body.flags, SESSION_BODY_TOO_BIG);
		assert_int_equal(f.end_at, sizeof in - 1);
	}
	feed(&f, 16, in, sizeof in - 1, 3);
	assert_int_equal(f.nout, 16);
	assert_int_equal(f.ds.body.flags, 0);
}

static void data_scan_undecided_bytes(void **state)
{
	(void)state;
	struct session_datascan ds = {0};
	size_t used, chunk;
	/* A CR at the end: CRLF or bare CR, the next byte will say. */
	assert_int_equal(session_data_scan(&ds, "ab\r", 3, &used, &chunk), SESSION_DATA_MORE);
	assert_int_equal(used, 2);
	assert_int_equal(chunk, 2);
	assert_int_equal(session_data_scan(&ds, "\r", 1, &used, &chunk), SESSION_DATA_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(session_data_scan(&ds, "\r\n.", 3, &used, &chunk), SESSION_DATA_MORE);
	assert_int_equal(used, 2);
	/* A leading dot: the end, or stuffing. */
	assert_int_equal(session_data_scan(&ds, ".\r", 2, &used, &chunk), SESSION_DATA_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(session_data_scan(&ds, ".\rx", 3, &used, &chunk), SESSION_DATA_MORE);
	assert_int_equal(used, 1);	/* the dot, removed */
	assert_int_equal(chunk, 0);
	assert_int_equal(ds.body.bare_cr, 0);	/* the CR is looked at next time */
}

/* ---- sessions over socketpairs ---- */

struct mp {
	struct loop *loop;
	struct session *s;
	int peer;
	uint64_t data_max, counted_max;
	char lines[16][80];
	int nlines;
	char sasl[8][80];
	bool cancel[8];
	int nsasl;
	char body[8192];
	size_t nbody;
	int chunks;
	struct session_body end;
	int ends, eofs, closed, timeouts, errors;
	bool pause_on_chunk, quit_on_timeout;
	struct event *resume;
	/* PAUSE: what the peer could read while the session was paused */
	char early[256];
	ssize_t nearly;
	struct event *answer;
	char reason[128];
};

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_resume(arg);
}

/* PAUSE's offloaded work is done: what could the peer read meanwhile?
 * Then the answer, and read on. */
static void on_answer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct mp *m = arg;
	m->nearly = read(m->peer, m->early, sizeof m->early - 1);
	if (m->nearly > 0)
		m->early[m->nearly] = '\0';
	session_printf(m->s, "250 paused\r\n");
	session_resume(m->s);
}

static uint64_t arg_u64(const char *line)
{
	uint64_t v = 0;
	const char *sp = strchr(line, ' ');
	assert_non_null(sp);
	assert_int_equal(str_to_u64(sp + 1, UINT64_MAX, &v), 0);
	return v;
}

static void mp_line(struct mp *m, struct session *s, const char *line)
{
	ik_err e;
	if (m->nlines < 16)
		str_copy(m->lines[m->nlines++], sizeof m->lines[0], line);
	if (strcmp(line, "DATA") == 0) {
		session_printf(s, "354 go\r\n");
		session_read_data(s, m->data_max);
	} else if (strncmp(line, "BDAT ", 5) == 0) {
		if (session_read_counted(s, arg_u64(line), m->counted_max, &e) < 0)
			session_printf(s, "552 %s\r\n", e.msg);
	} else if (strncmp(line, "SKIP ", 5) == 0) {
		session_discard_counted(s, arg_u64(line));
	} else if (strcmp(line, "AUTH") == 0) {
		session_set_mode(s, SESSION_MODE_SASL);
		session_printf(s, "334 \r\n");
	} else if (strcmp(line, "QUIT") == 0) {
		session_reply_close(s, "221 bye\r\n", 9, "quit");
	} else if (strcmp(line, "PAUSE") == 0) {
		session_pause(s);
		m->answer = loop_timer(m->loop, 50, false, on_answer, m);
		assert_non_null(m->answer);
	} else if (strncmp(line, "MAXLINE ", 8) == 0) {
		session_set_max_line(s, (size_t)arg_u64(line));
		session_printf(s, "250 ok\r\n");
	} else if (strncmp(line, "IDLE ", 5) == 0) {
		session_set_idle_timeout(s, arg_u64(line));
		session_printf(s, "250 ok\r\n");
	} else {
		session_printf(s, "250 %s\r\n", line);
	}
}

static void mp_io(struct session *s, const struct session_ev *ev, void *arg)
{
	struct mp *m = arg;
	switch (ev->type) {
	case SESSION_EV_LINE:
		mp_line(m, s, ev->line);
		break;
	case SESSION_EV_LINE_ERROR:
		m->errors++;
		session_printf(s, "500 %s\r\n", session_line_status_text(ev->error));
		break;
	case SESSION_EV_SASL_LINE:
		m->cancel[m->nsasl] = ev->cancel;
		str_copy(m->sasl[m->nsasl++], sizeof m->sasl[0], ev->line);
		if (ev->cancel || strcmp(ev->line, "done") == 0) {
			session_set_mode(s, SESSION_MODE_LINE);
			session_printf(s, ev->cancel ? "501 cancelled\r\n" : "235 ok\r\n");
		} else {
			session_printf(s, "334 more\r\n");
		}
		break;
	case SESSION_EV_BODY:
		assert_true(ev->len > 0 && m->nbody + ev->len <= sizeof m->body);
		memcpy(m->body + m->nbody, ev->data, ev->len);
		m->nbody += ev->len;
		m->chunks++;
		if (m->pause_on_chunk && m->chunks == 1) {
			session_pause(s);
			m->resume = loop_timer(m->loop, 50, false, on_resume, s);
			assert_non_null(m->resume);
		}
		break;
	case SESSION_EV_BODY_END:
		m->ends++;
		m->end = *ev->body;
		assert_int_equal(session_mode(s), SESSION_MODE_LINE);
		session_printf(s, "250 size=%llu flags=%u\r\n", (unsigned long long)ev->body->size,
			       ev->body->flags);
		break;
	case SESSION_EV_EOF:
		m->eofs++;
		break;
	case SESSION_EV_TIMEOUT:
		m->timeouts++;
		if (m->quit_on_timeout)
			session_reply_close(s, "421 idle\r\n", 10, ev->reason);
		break;
	case SESSION_EV_CLOSED:
		m->closed++;
		str_copy(m->reason, sizeof m->reason, ev->reason);
		loop_exit(m->loop);
		break;
	default:
		break;
	}
}

static void mp_start(struct mp *m, struct session_opts *o)
{
	if (o->eol == SESSION_EOL_LF)
		o->eol = SESSION_EOL_CRLF;
	m->s = fx_start(&m->loop, o, mp_io, m, &m->peer);
}

static void mp_finish(struct mp *m)
{
	if (!m->closed) {
		session_close(m->s, "test over");
		fx_run(m->loop, 5000);
	}
	if (m->resume != NULL)
		event_free(m->resume);
	if (m->answer != NULL)
		event_free(m->answer);
	close(m->peer);
	loop_free(m->loop);
}

/* Send in, shut the peer's write side, run until closed; what the peer
 * read is in out. */
static void mp_talk(struct mp *m, const char *in, size_t n, char *out, size_t outsz)
{
	fx_put(m->peer, in, n);
	shutdown(m->peer, SHUT_WR);
	fx_run(m->loop, 5000);
	fx_get_all(m->peer, out, outsz);
}

static void data_mode_over_socket(void **state)
{
	(void)state;
	struct mp m = {.data_max = 1000};
	struct session_opts o = {0};
	mp_start(&m, &o);
	const char in[] = "MAIL\r\nDATA\r\nSubject: hi\r\n\r\n..x\r\n.\r\nNOOP\r\n";
	char out[256];
	mp_talk(&m, in, sizeof in - 1, out, sizeof out);
	assert_string_equal(out, "250 MAIL\r\n354 go\r\n250 size=19 flags=0\r\n250 NOOP\r\n");
	assert_int_equal(m.nbody, 19);
	assert_memory_equal(m.body, "Subject: hi\r\n\r\n.x\r\n", 19);
	assert_int_equal(m.ends, 1);
	assert_int_equal(m.nlines, 3);	/* MAIL, DATA, NOOP: no body line */
	assert_string_equal(m.lines[2], "NOOP");
	assert_string_equal(m.reason, "eof");
	mp_finish(&m);
}

/* A smuggled "\n.\n" followed by a command stays in the body: no command
 * runs, and the protocol is told of the bare LF. */
static void data_mode_smuggling_is_body(void **state)
{
	(void)state;
	struct mp m = {.data_max = 1000};
	struct session_opts o = {0};
	mp_start(&m, &o);
	const char in[] = "DATA\r\nhello\n.\nMAIL FROM:<evil>\r\nRCPT\r\n.\r\n";
	char out[256];
	mp_talk(&m, in, sizeof in - 1, out, sizeof out);
	assert_string_equal(out, "354 go\r\n250 size=32 flags=4\r\n");
	assert_int_equal(m.nlines, 1);
	assert_int_equal(m.end.bare_lf, 2);
	assert_int_equal(m.end.flags, SESSION_BODY_BARE_LF);
	assert_memory_equal(m.body, "hello\n.\nMAIL FROM:<evil>\r\nRCPT\r\n", 32);
	mp_finish(&m);
}

/* Over the limit: nothing more is delivered, the rest is read and dropped
 * up to the end, the end says TOO_BIG, and the session goes on. */
static void data_mode_limit_while_reading(void **state)
{
	(void)state;
	struct mp m = {.data_max = 100};
	struct session_opts o = {0};
	mp_start(&m, &o);
	fx_put(m.peer, "DATA\r\n", 6);
	char line[80];
	memset(line, 'x', 78);
	memcpy(line + 78, "\r\n", 2);
	/* 1 MiB: far more than the limit, sent while the session reads. */
	for (int i = 0; i < 13108; i++) {
		while (write(m.peer, line, sizeof line) < 0)
			fx_run(m.loop, 5);
	}
	fx_put(m.peer, ".\r\nNOOP\r\n", 9);
	shutdown(m.peer, SHUT_WR);
	fx_run(m.loop, 10000);
	char out[256];
	fx_get_all(m.peer, out, sizeof out);
	assert_string_equal(out, "354 go\r\n250 size=1048640 flags=1\r\n250 NOOP\r\n");
	assert_int_equal(m.nbody, 100);
	assert_int_equal(m.end.flags, SESSION_BODY_TOO_BIG);
	assert_string_equal(m.reason, "eof");
	mp_finish(&m);
}

static void data_mode_eof_before_the_end(void **state)
{
	(void)state;
	struct mp m = {.data_max = 1000};
	struct session_opts o = {0};
	mp_start(&m, &o);
	const char in[] = "DATA\r\npart of a body\r\n";
	char out[256];
	mp_talk(&m, in, sizeof in - 1, out, sizeof out);
	assert_string_equal(out, "354 go\r\n");
	assert_int_equal(m.ends, 0);	/* no BODY_END for half a body */
	assert_int_equal(m.eofs, 1);
	assert_string_equal(m.reason, "eof");
	mp_finish(&m);
}

/* Paused by a chunk (its write offloaded, say): the end and the lines
 * after it wait for session_resume. */
static void data_mode_pause_holds_the_end(void **state)
{
	(void)state;
	struct mp m = {.data_max = 1000, .pause_on_chunk = true};
	struct session_opts o = {0};
	mp_start(&m, &o);
	const char in[] = "DATA\r\nbody\r\n.\r\nNOOP\r\n";
	fx_put(m.peer, in, sizeof in - 1);
	fx_run(m.loop, 20);
	assert_int_equal(m.chunks, 1);
	assert_int_equal(m.ends, 0);
	assert_int_equal(m.nlines, 1);
	char out[256];
	shutdown(m.peer, SHUT_WR);
	fx_run(m.loop, 5000);	/* resumed by the timer, then the EOF closes */
	fx_get_all(m.peer, out, sizeof out);
	assert_string_equal(out, "354 go\r\n250 size=6 flags=0\r\n250 NOOP\r\n");
	assert_int_equal(m.ends, 1);
	mp_finish(&m);
}

/* RFC 2920: with opts.pipelining, the replies to a pipelined group leave
 * together even when one command paused the session for offloaded work
 * (an SMTP RCPT lookup): nothing is readable while it runs. Without it,
 * the replies before the pause go out at once. */
static void pipelined_replies(bool pipelining, char *early, size_t earlysz, char *out,
			      size_t outsz)
{
	struct mp m = {0};
	struct session_opts o = {.pipelining = pipelining};
	mp_start(&m, &o);
	const char in[] = "MAIL\r\nPAUSE\r\nRCPT\r\nDATA\r\n";
	fx_put(m.peer, in, sizeof in - 1);
	fx_run(m.loop, 300);
	assert_non_null(m.answer);
	str_copy(early, earlysz, m.nearly > 0 ? m.early : "");
	fx_get_all(m.peer, out, outsz);
	mp_finish(&m);
}

static void pipelining_holds_replies_over_a_pause(void **state)
{
	(void)state;
	char early[256], out[256];
	pipelined_replies(true, early, sizeof early, out, sizeof out);
	assert_string_equal(early, "");
	assert_string_equal(out, "250 MAIL\r\n250 paused\r\n250 RCPT\r\n354 go\r\n");
	pipelined_replies(false, early, sizeof early, out, sizeof out);
	assert_string_equal(early, "250 MAIL\r\n");
	assert_string_equal(out, "250 paused\r\n250 RCPT\r\n354 go\r\n");
}

static void counted_mode(void **state)
{
	(void)state;
	struct mp m = {.counted_max = 10};
	struct session_opts o = {0};
	mp_start(&m, &o);
	/* 5 bytes that look like a command are data; the limit is checked
	 * before a byte is read; 0 bytes end at once; SKIP drops its bytes. */
	const char in[] = "BDAT 5\r\nQUIT\nNOOP\r\nBDAT 11\r\nBDAT 0\r\nSKIP 4\r\n\0\0\0\0"
			  "BDAT 3\r\na\0b";
	char out[512];
	mp_talk(&m, in, sizeof in - 1, out, sizeof out);
	assert_string_equal(out, "250 size=5 flags=0\r\n250 NOOP\r\n"
			    "552 11 bytes is over the limit of 10 bytes\r\n"
			    "250 size=0 flags=0\r\n250 size=4 flags=9\r\n250 size=3 flags=8\r\n");
	assert_int_equal(m.nbody, 8);
	assert_memory_equal(m.body, "QUIT\na\0b", 8);
	assert_int_equal(m.end.nul, 1);
	assert_int_equal(m.ends, 4);
	assert_int_equal(m.nlines, 6);
	assert_string_equal(m.reason, "eof");
	mp_finish(&m);
}

/* A counted read cut short by the peer's EOF: no end. */
static void counted_mode_eof_before_the_end(void **state)
{
	(void)state;
	struct mp m = {.counted_max = 100};
	struct session_opts o = {0};
	mp_start(&m, &o);
	const char in[] = "BDAT 50\r\nonly this";
	char out[64];
	mp_talk(&m, in, sizeof in - 1, out, sizeof out);
	assert_string_equal(out, "");
	assert_int_equal(m.nbody, 9);
	assert_int_equal(m.ends, 0);
	assert_int_equal(m.eofs, 1);
	mp_finish(&m);
}

/* SASL responses: their own event, never a command line, never in the log
 * even at debug level; "*" cancels. */
static void sasl_mode_not_logged_nor_dispatched(void **state)
{
	(void)state;
	char path[] = "/tmp/inetkit-test-sasl-XXXXXX";
	int logfd = mkstemp(path);
	assert_true(logfd >= 0);
	unlink(path);
	int saved = dup(2);
	dup2(logfd, 2);
	log_set_level(LOG_DEBUG);

	struct mp m = {0};
	struct session_opts o = {0};
	mp_start(&m, &o);
	const char in[] = "AUTH\r\nc2VjcmV0IQ==\r\ndone\r\nAUTH\r\n*\r\nQUIT\r\n";
	char out[256];
	mp_talk(&m, in, sizeof in - 1, out, sizeof out);
	mp_finish(&m);

	log_set_level(LOG_INFO);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char logtext[8192];
	lseek(logfd, 0, SEEK_SET);
	ssize_t k = read(logfd, logtext, sizeof logtext - 1);
	close(logfd);
	assert_true(k > 0);
	logtext[k] = '\0';

	assert_string_equal(out, "334 \r\n334 more\r\n235 ok\r\n334 \r\n501 cancelled\r\n221 bye\r\n");
	assert_int_equal(m.nsasl, 3);
	assert_string_equal(m.sasl[0], "c2VjcmV0IQ==");
	assert_false(m.cancel[0]);
	assert_string_equal(m.sasl[2], "*");
	assert_true(m.cancel[2]);
	assert_int_equal(m.nlines, 3);	/* AUTH, AUTH, QUIT */
	assert_string_equal(m.lines[1], "AUTH");
	/* Debug logging was on (mode changes are logged) ... */
	assert_non_null(strstr(logtext, "event=mode proto=test"));
	assert_non_null(strstr(logtext, "from=line to=sasl"));
	/* ... and the response is nowhere. */
	assert_null(strstr(logtext, "c2VjcmV0"));
	assert_string_equal(m.reason, "quit");
}

static void max_line_at_run_time(void **state)
{
	(void)state;
	struct mp m = {0};
	struct session_opts o = {.max_line = 16};
	mp_start(&m, &o);
	const char in[] = "0123456789abcdefXYZ\r\nMAXLINE 40\r\n0123456789abcdefXYZ\r\n"
			  "MAXLINE 4\r\nlong\r\nlonger\r\n";
	char out[512];
	mp_talk(&m, in, sizeof in - 1, out, sizeof out);
	assert_string_equal(out, "500 line too long\r\n250 ok\r\n250 0123456789abcdefXYZ\r\n"
			    "250 ok\r\n250 long\r\n500 line too long\r\n");
	assert_int_equal(m.errors, 2);
	mp_finish(&m);
}

/* A longer idle timeout for one state (IMAP IDLE), a shorter one back. */
static void idle_timeout_at_run_time(void **state)
{
	(void)state;
	struct mp m = {0};
	/* write_ms given: the peer does not read its "250 ok", and on a
	 * socketpair unread bytes count as unsent (not so over TCP). */
	struct session_opts o = {.idle_ms = 60000, .write_ms = 60000};
	mp_start(&m, &o);
	fx_put(m.peer, "IDLE 100\r\n", 10);
	fx_run(m.loop, 5000);
	assert_int_equal(m.timeouts, 1);
	assert_string_equal(m.reason, "idle timeout (100 ms)");
	close(m.peer);
	loop_free(m.loop);

	struct mp m2 = {0};
	struct session_opts o2 = {.idle_ms = 100};
	mp_start(&m2, &o2);
	fx_put(m2.peer, "IDLE 0\r\n", 8);
	fx_run(m2.loop, 400);	/* 0: never; the guard ends the run */
	assert_int_equal(m2.timeouts, 0);
	assert_int_equal(m2.closed, 0);
	mp_finish(&m2);
}

/* The last reply reaches the peer; what it sends after QUIT is read and
 * dropped, never run; the session closes when the peer closes, with the
 * protocol's reason. */
static void reply_close_then_peer_closes(void **state)
{
	(void)state;
	struct mp m = {0};
	struct session_opts o = {.log_close = true};
	mp_start(&m, &o);
	fx_put(m.peer, "NOOP\r\nQUIT\r\nNOOP\r\nRSET\r\n", 24);
	fx_run(m.loop, 50);
	char out[256];
	fx_get_all(m.peer, out, sizeof out);
	assert_string_equal(out, "250 NOOP\r\n221 bye\r\n");
	assert_int_equal(read(m.peer, out, sizeof out), 0);	/* our FIN */
	assert_int_equal(m.closed, 0);	/* waits for the peer */
	fx_put(m.peer, "more\r\n", 6);
	shutdown(m.peer, SHUT_WR);
	fx_run(m.loop, 5000);
	assert_int_equal(m.closed, 1);
	assert_int_equal(m.nlines, 2);
	assert_string_equal(m.reason, "quit");
	mp_finish(&m);
}

/* A peer that never closes: the session closes after close_ms. */
static void reply_close_bounded_wait(void **state)
{
	(void)state;
	struct mp m = {0};
	struct session_opts o = {.close_ms = 100, .idle_ms = 60000};
	mp_start(&m, &o);
	fx_put(m.peer, "QUIT\r\n", 6);
	fx_run(m.loop, 5000);
	assert_int_equal(m.closed, 1);
	assert_string_equal(m.reason, "quit");
	char out[64];
	fx_get_all(m.peer, out, sizeof out);
	assert_string_equal(out, "221 bye\r\n");
	mp_finish(&m);
}

/* The idle timeout's reply goes out the same way. */
static void reply_close_from_timeout(void **state)
{
	(void)state;
	struct mp m = {.quit_on_timeout = true};
	struct session_opts o = {.idle_ms = 100, .close_ms = 100};
	mp_start(&m, &o);
	fx_run(m.loop, 5000);
	assert_int_equal(m.timeouts, 1);
	assert_int_equal(m.closed, 1);
	assert_string_equal(m.reason, "idle timeout (100 ms)");
	char out[64];
	fx_get_all(m.peer, out, sizeof out);
	assert_string_equal(out, "421 idle\r\n");
	mp_finish(&m);
}

/* The last reply of a timeout goes out at once, not when the wait for the
 * peer's close is over: the peer reads it while the session still waits. */
static void reply_close_from_timeout_is_sent_at_once(void **state)
{
	(void)state;
	struct mp m = {.quit_on_timeout = true};
	struct session_opts o = {.idle_ms = 100, .close_ms = 60000};
	mp_start(&m, &o);
	fx_run(m.loop, 600);
	assert_int_equal(m.timeouts, 1);
	assert_int_equal(m.closed, 0);
	char out[64];
	fx_get_all(m.peer, out, sizeof out);
	assert_string_equal(out, "421 idle\r\n");
	mp_finish(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reply_close_from_timeout_is_sent_at_once),
		cmocka_unit_test(data_scan_unstuffs_up_to_the_end),
		cmocka_unit_test(data_scan_smuggling_markers_are_body),
		cmocka_unit_test(data_scan_limit_while_reading),
		cmocka_unit_test(data_scan_undecided_bytes),
		cmocka_unit_test(data_mode_over_socket),
		cmocka_unit_test(data_mode_smuggling_is_body),
		cmocka_unit_test(data_mode_limit_while_reading),
		cmocka_unit_test(data_mode_eof_before_the_end),
		cmocka_unit_test(data_mode_pause_holds_the_end),
		cmocka_unit_test(counted_mode),
		cmocka_unit_test(counted_mode_eof_before_the_end),
		cmocka_unit_test(sasl_mode_not_logged_nor_dispatched),
		cmocka_unit_test(max_line_at_run_time),
		cmocka_unit_test(idle_timeout_at_run_time),
		cmocka_unit_test(reply_close_then_peer_closes),
		cmocka_unit_test(reply_close_bounded_wait),
		cmocka_unit_test(reply_close_from_timeout),
		cmocka_unit_test(pipelining_holds_replies_over_a_pause),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
