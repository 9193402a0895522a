/* The asynchronous authenticator on a real loop: fifty logins at once
 * leave the loop free for other work (checked by the order of events, not
 * by time), failures wait out failure_delay, cancel, busy, shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "core/account.h"
#include "core/account_hash.h"
#include "core/account_store.h"

static char dir[64];
static struct account_policy pol;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ik-auth-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	ik_err e;
	account_policy_defaults(&pol);
	account_policy_set_state_dir(&pol, dir, &e);
	pol.failure_delay_ms = 0;
	struct account_store *s;
	if (account_store_open(pol.db_path, ACCOUNT_STORE_CREATE, &s, &e) < 0)
		return -1;
	struct account a;
	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "alice");
	snprintf(a.home, sizeof a.home, "/srv/alice");
	char h[ACCOUNT_HASH_MAX];
	/* The production cost: each check takes real time. */
	if (account_hash_password("alice-pass", 0, h, sizeof h, &e) < 0 ||
	    account_store_add(s, &a, h, &e) != 1)
		return -1;
	account_store_close(s);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		char p[160];
		snprintf(p, sizeof p, "%s%s", pol.db_path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

#define MAX_EVENTS 128

static int count_login(const struct account_login *l, void *arg)
{
	(void)l;
	(*(int64_t *)arg)++;
	return 0;
}

struct run {
	struct loop *loop;
	pthread_t loop_thread;
	char events[MAX_EVENTS][16];	/* in the order they happened */
	int nevents;
	int answers, ok, expected;
	bool off_thread;
	int sv[2];
	struct event *echo_in, *echo_back;
	bool echoed;
	enum account_status last;
};

static void note(struct run *r, const char *what)
{
	if (r->nevents < MAX_EVENTS)
		snprintf(r->events[r->nevents++], sizeof r->events[0], "%s", what);
}

static void maybe_exit(struct run *r)
{
	if (r->answers >= r->expected && (r->sv[0] < 0 || r->echoed))
		loop_exit(r->loop);
}

static void on_answer(const struct account_result *res, void *arg)
{
	struct run *r = arg;
	if (!pthread_equal(pthread_self(), r->loop_thread))
		r->off_thread = true;
	r->answers++;
	if (res->status == ACCOUNT_OK)
		r->ok++;
	r->last = res->status;
	note(r, res->status == ACCOUNT_OK ? "ok" : account_status_word(res->status));
	maybe_exit(r);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct run *r = arg;
	char ev[16];
	snprintf(ev, sizeof ev, "timer@%d", r->answers);
	note(r, ev);
}

/* The far end of a socketpair: an echo "session" on the same loop. */
static void on_echo_in(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	char buf[16];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n > 0)
		assert_int_equal(write(fd, buf, (size_t)n), n);
}

static void on_echo_back(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct run *r = arg;
	char buf[16];
	ssize_t n = read(fd, buf, sizeof buf);
	assert_true(n == 4 && memcmp(buf, "ping", 4) == 0);
	char ev[16];
	snprintf(ev, sizeof ev, "echo@%d", r->answers);
	note(r, ev);
	r->echoed = true;
	maybe_exit(r);
}

static struct account_auth *start(struct run *r)
{
	ik_err e;
	memset(r, 0, sizeof *r);
	r->sv[0] = r->sv[1] = -1;
	r->loop = loop_new(&e);
	assert_non_null(r->loop);
	r->loop_thread = pthread_self();
	struct account_auth *a = account_auth_new(r->loop, &pol, &e);
	if (a == NULL)
		fail_msg("%s", e.msg);
	return a;
}

static void submit(struct account_auth *a, struct run *r, const char *name, const char *pw)
{
	ik_err e;
	struct account_query q = {name, pw, "imap", "127.0.0.1", NULL, NULL};
	if (account_verify(a, &q, on_answer, r, &e) == NULL)
		fail_msg("%s", e.msg);
	r->expected++;
}

static void fifty_at_once_leave_the_loop_free(void **state)
{
	(void)state;
	struct run r;
	struct account_auth *a = start(&r);
	for (int i = 0; i < 50; i++)
		submit(a, &r, "alice", "alice-pass");
	/* Now, while the hashes run, ask the loop for two other things. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, r.sv), 0);
	struct event_base *base = loop_base(r.loop);
	r.echo_in = event_new(base, r.sv[1], EV_READ | EV_PERSIST, on_echo_in, &r);
	r.echo_back = event_new(base, r.sv[0], EV_READ | EV_PERSIST, on_echo_back, &r);
	event_add(r.echo_in, NULL);
	event_add(r.echo_back, NULL);
	assert_int_equal(write(r.sv[0], "ping", 4), 4);
	struct event *t = loop_timer(r.loop, 0, false, on_timer, &r);
	loop_run(r.loop);
	assert_int_equal(r.answers, 50);
	assert_int_equal(r.ok, 50);
	assert_false(r.off_thread);
	/* The timer and the echo were both served before the last answer. */
	int timer_at = -1, echo_at = -1, last_answer = -1;
	for (int i = 0; i < r.nevents; i++) {
		if (strncmp(r.events[i], "timer@", 6) == 0)
			timer_at = i;
		else if (strncmp(r.events[i], "echo@", 5) == 0)
			echo_at = i;
		else
			last_answer = i;
	}
	assert_true(timer_at >= 0 && echo_at >= 0);
	assert_true(timer_at < last_answer);
	assert_true(echo_at < last_answer);
	event_free(t);
	event_free(r.echo_in);
	event_free(r.echo_back);
	close(r.sv[0]);
	close(r.sv[1]);
	account_auth_free(a);
	loop_free(r.loop);
}

static void failures_wait_out_the_delay(void **state)
{
	(void)state;
	pol.failure_delay_ms = 300;
	struct run r;
	struct account_auth *a = start(&r);
	submit(a, &r, "alice", "wrong");
	submit(a, &r, "nobody", "whatever");
	submit(a, &r, "alice", "alice-pass");
	loop_run(r.loop);
	assert_int_equal(r.answers, 3);
	/* Submitted last, answered first: the failures were held back. */
	assert_string_equal(r.events[0], "ok");
	assert_true((strcmp(r.events[1], "bad_password") == 0 && strcmp(r.events[2], "unknown") == 0) ||
		    (strcmp(r.events[1], "unknown") == 0 && strcmp(r.events[2], "bad_password") == 0));
	account_auth_free(a);
	loop_free(r.loop);
	pol.failure_delay_ms = 0;
}

struct cancel_run {
	struct run r;
	struct account_request *pending_failure;
	struct account_auth *a;
	int ticks;
	struct event *late;
	bool answered_before;	/* the good login had answered at the last tick */
};

static void on_answer_cancel(const struct account_result *res, void *arg)
{
	struct cancel_run *c = arg;
	on_answer(res, &c->r);
	/* The failure is now waiting out its delay: the client leaves. */
	account_verify_cancel(c->pending_failure);
	c->pending_failure = NULL;
}

static void on_late(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct cancel_run *c = arg;
	loop_exit(c->r.loop);
}

static void on_late_after_answer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct cancel_run *c = arg;
	/* Leave a whole tick after the good login answered, however long a
	 * loaded machine took to hash it (a fixed time made this test fail
	 * under load): the cancelled ones had every chance to answer. */
	if (!c->answered_before && ++c->ticks < 100) {
		c->answered_before = c->r.answers > 0;
		struct timeval tv = loop_tv(600);
		event_add(c->late, &tv);
		return;
	}
	loop_exit(c->r.loop);
}

static void cancelled_requests_never_answer(void **state)
{
	(void)state;
	pol.failure_delay_ms = 200;
	struct cancel_run c = {0};
	struct account_auth *a = start(&c.r);
	c.r.expected = 1000;	/* leave only on the late timer */
	ik_err e;
	/* Cancelled while queued or hashing. */
	struct account_query q = {"alice", "alice-pass", "ftp", "127.0.0.1", NULL, NULL};
	for (int i = 0; i < 3; i++) {
		struct account_request *req = account_verify(a, &q, on_answer, &c.r, &e);
		assert_non_null(req);
		account_verify_cancel(req);
	}
	/* Cancelled during its failure delay. */
	struct account_query bad = {"alice", "wrong", "ftp", "127.0.0.1", NULL, NULL};
	c.pending_failure = account_verify(a, &bad, on_answer, &c.r, &e);
	assert_non_null(c.pending_failure);
	struct account_query good = {"alice", "alice-pass", "ftp", "127.0.0.1", NULL, NULL};
	assert_non_null(account_verify(a, &good, on_answer_cancel, &c, &e));
	/* Long after every delay would have passed. */
	c.late = loop_timer(c.r.loop, 600, false, on_late_after_answer, &c);
	loop_run(c.r.loop);
	event_free(c.late);
	assert_int_equal(c.r.answers, 1);
	assert_string_equal(c.r.events[0], "ok");
	account_auth_free(a);
	loop_free(c.r.loop);
	pol.failure_delay_ms = 0;
}

static void full_queue_answers_busy(void **state)
{
	(void)state;
	pol.hash_threads = 1;
	pol.hash_queue = 1;
	struct run r;
	struct account_auth *a = start(&r);
	ik_err e;
	int refused = 0;
	for (int i = 0; i < 20; i++) {
		struct account_query q = {"alice", "alice-pass", "pop3", "127.0.0.1", NULL, NULL};
		if (account_verify(a, &q, on_answer, &r, &e) == NULL) {
			refused++;
			assert_true(strncmp(e.msg, "busy: ", 6) == 0);
		} else {
			r.expected++;
		}
	}
	/* One thread busy hashing, one job waiting: the rest is refused. */
	assert_true(refused >= 1);
	assert_int_equal(refused + r.expected, 20);
	loop_run(r.loop);
	assert_int_equal(r.answers, r.expected);
	account_auth_free(a);
	loop_free(r.loop);
	pol.hash_threads = 2;
	pol.hash_queue = 256;
}

static void free_with_requests_in_flight(void **state)
{
	(void)state;
	struct run r;
	struct account_auth *a = start(&r);
	for (int i = 0; i < 10; i++)
		submit(a, &r, "alice", i % 2 ? "alice-pass" : "wrong");
	account_auth_free(a);	/* no callback after this, nothing leaks */
	assert_int_equal(r.answers, 0);
	loop_free(r.loop);
}

static void missing_store_is_an_error(void **state)
{
	(void)state;
	ik_err e;
	struct loop *l = loop_new(&e);
	struct account_policy p = pol;
	account_policy_set_state_dir(&p, "/nonexistent/inetkit", &e);
	assert_null(account_auth_new(l, &p, &e));
	assert_string_equal(e.msg, "no account store at /nonexistent/inetkit/accounts.db; create "
			    "one with 'inetkit user add' or by starting 'inetkit serve'");
	loop_free(l);
}

/* account_lookup: found (with what the account is), not found, with no
 * failure delay and no login log line, on the loop thread; cancelled ones
 * never answer. */
struct looked {
	struct loop *loop;
	pthread_t loop_thread;
	int answers, expected, found[4];
	char name[4][ACCOUNT_NAME_MAX + 1];
	uint64_t quota[4];
	bool off_thread;
};

static void on_lookup(const struct account_lookup_result *res, void *arg)
{
	struct looked *k = arg;
	if (!pthread_equal(pthread_self(), k->loop_thread))
		k->off_thread = true;
	int i = k->answers++;
	if (i < 4) {
		k->found[i] = res->found;
		snprintf(k->name[i], sizeof k->name[i], "%s", res->found == 1 ? res->acct.name : "");
		k->quota[i] = res->found == 1 ? res->acct.quota : 0;
	}
	if (k->answers >= k->expected)
		loop_exit(k->loop);
}

static void lookup_answers_without_delay_or_log(void **state)
{
	(void)state;
	/* A long failure delay: a lookup that waited it out would hang the test. */
	pol.failure_delay_ms = 60000;
	struct run r;
	struct account_auth *a = start(&r);
	struct looked k = {.loop = r.loop, .loop_thread = pthread_self(), .expected = 2};
	ik_err e;
	assert_non_null(account_lookup(a, "alice", on_lookup, &k, &e));
	assert_non_null(account_lookup(a, "nobody-here", on_lookup, &k, &e));
	struct account_request *gone = account_lookup(a, "alice", on_lookup, &k, &e);
	assert_non_null(gone);
	account_verify_cancel(gone);
	loop_run(r.loop);
	assert_int_equal(k.answers, 2);
	assert_false(k.off_thread);
	/* Two threads: either may answer first. */
	int alice = k.found[0] == 1 ? 0 : 1;
	assert_int_equal(k.found[alice], 1);
	assert_string_equal(k.name[alice], "alice");
	assert_int_equal(k.found[1 - alice], 0);
	account_auth_free(a);
	loop_free(r.loop);
	pol.failure_delay_ms = 0;
	/* No login log line for either lookup. */
	struct account_store *s;
	assert_int_equal(account_store_open(pol.db_path, 0, &s, &e), 0);
	int64_t n = 0;
	assert_int_equal(account_store_log_list(s, NULL, 100, count_login, &n, &e), 0);
	assert_int_equal(n, 0);
	account_store_close(s);
}

/* A challenge-response login on the pool: the check runs off the loop, a
 * wrong response waits out the failure delay like a wrong password, and
 * the context handed over is freed exactly once however the request ends
 * (answered, cancelled in the delay, refused by a full queue). */
static atomic_int ctx_freed;

static void ctx_free(void *ctx)
{
	atomic_fetch_add(&ctx_freed, 1);
	free(ctx);
}

static int resp_check(const char *name, const char *response, void *ctx, ik_err *e)
{
	(void)e;
	return strcmp(name, "alice") == 0 && strcmp(response, (const char *)ctx) == 0;
}

static void submit_challenge(struct account_auth *a, struct run *r, const char *resp)
{
	ik_err e;
	struct account_challenge ch = {"apop", resp_check, strdup("good-digest"), ctx_free};
	struct account_query q = {"alice", resp, "pop3", "127.0.0.1", NULL, &ch};
	if (account_verify(a, &q, on_answer, r, &e) == NULL)
		fail_msg("%s", e.msg);
	r->expected++;
}

static void on_cancel_pending(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct cancel_run *c = arg;
	account_verify_cancel(c->pending_failure);
	c->pending_failure = NULL;
}

static void challenge_logins_on_the_pool(void **state)
{
	(void)state;
	atomic_store(&ctx_freed, 0);
	pol.failure_delay_ms = 300;
	struct run r;
	struct account_auth *a = start(&r);
	submit_challenge(a, &r, "bad-digest");
	submit_challenge(a, &r, "good-digest");
	loop_run(r.loop);
	assert_int_equal(r.answers, 2);
	assert_string_equal(r.events[0], "ok");		/* the failure was held back */
	assert_string_equal(r.events[1], "bad_password");
	assert_false(r.off_thread);
	assert_int_equal(atomic_load(&ctx_freed), 2);
	/* Cancelled during its delay: freed once, no answer. */
	struct cancel_run c = {.r = r};
	c.r.expected = 1000;
	ik_err e;
	struct account_challenge ch = {"apop", resp_check, strdup("x"), ctx_free};
	struct account_query q = {"alice", "wrong", "pop3", "127.0.0.1", NULL, &ch};
	c.pending_failure = account_verify(a, &q, on_answer, &c.r, &e);
	assert_non_null(c.pending_failure);
	struct event *t = loop_timer(c.r.loop, 150, false, on_cancel_pending, &c);
	struct event *t2 = loop_timer(c.r.loop, 700, false, on_late, &c);
	loop_run(c.r.loop);
	event_free(t);
	event_free(t2);
	assert_int_equal(c.r.answers, 2);
	assert_int_equal(atomic_load(&ctx_freed), 3);
	account_auth_free(a);
	loop_free(r.loop);
	pol.failure_delay_ms = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fifty_at_once_leave_the_loop_free, setup, teardown),
		cmocka_unit_test_setup_teardown(failures_wait_out_the_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(cancelled_requests_never_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(full_queue_answers_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(free_with_requests_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_store_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(lookup_answers_without_delay_or_log, setup, teardown),
		cmocka_unit_test_setup_teardown(challenge_logins_on_the_pool, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
