#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "mailstore/mailstore.h"
#include "smtp/smtp_queue.h"

struct fx {
	char dir[64];
	struct mailstore *ms;
	struct smtp_queue *q;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	str_copy(f->dir, sizeof f->dir, "/tmp/ik-queue-XXXXXX");
	ik_err e = {""};
	if (mkdtemp(f->dir) == NULL || mailstore_open(f->dir, &f->ms, &e) < 0 ||
	    smtp_queue_open(f->dir, &f->q, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	smtp_queue_free(f->q);
	mailstore_free(f->ms);
	int rc = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return rc;
}

static void qpath(char *out, size_t outsz, const struct fx *f, const char *name)
{
	str_fmt(out, outsz, "%s/queue/%s", f->dir, name);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fwrite(text, 1, len, fp);
	fclose(fp);
}

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* A spooled, synced message and an envelope for it (strings owned by env). */
static struct mail_spool *queue_one(struct fx *f, struct smtp_envelope *env, const char *from,
				    int64_t arrival)
{
	ik_err e = {""};
	struct mail_spool *sp = mail_spool_new(f->ms, &e);
	assert_non_null(sp);
	assert_int_equal(mail_spool_put_crlf(sp, "Subject: q\r\n\r\nhi\r\n", 18, &e), 0);
	assert_int_equal(mail_spool_sync(sp, &e), 0);
	memset(env, 0, sizeof *env);
	env->from = strdup(from);
	env->rcpt = calloc(1, sizeof *env->rcpt);
	env->rcpt[0].addr = strdup("bob@example.net");
	env->nrcpt = 1;
	env->arrival = arrival;
	if (smtp_queue_add(f->q, f->ms, sp, env, &e) < 0)
		fail_msg("%s", e.msg);
	return sp;
}

static void round_trip_with_odd_bytes(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	struct mail_spool *sp = mail_spool_new(f->ms, &e);
	assert_int_equal(mail_spool_put(sp, "Subject: x\n\nbody\n", 17, &e), 0);
	assert_int_equal(mail_spool_sync(sp, &e), 0);
	struct smtp_envelope env = {0};
	env.from = strdup("\"odd %41 <x>\"\t@ex\x7f" "ample.org");
	env.rcpt = calloc(3, sizeof *env.rcpt);
	env.rcpt[0] = (struct smtp_env_rcpt){strdup("j\xc3\xbcrgen@b\xc3\xbc" "cher.example"),
					     SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY,
					     strdup("rfc822;j\xc3\xbcrgen@example")};
	env.rcpt[1] = (struct smtp_env_rcpt){strdup("-"), SMTP_NOTIFY_NEVER, NULL};
	env.rcpt[2] = (struct smtp_env_rcpt){strdup("c@d"), 0, strdup("")};
	env.nrcpt = 3;
	env.ret = SMTP_RET_HDRS;
	env.envid = strdup("QQ 314159\r\n");
	env.body = SMTP_BODY_8BITMIME;
	env.smtputf8 = true;
	env.auth_user = strdup("alice");
	env.client = strdup("[::1]:5555");
	env.helo = strdup("client.example");
	env.tls = strdup("TLSv1.3 TLS_AES_256_GCM_SHA384");
	env.arrival = 1700000000;
	env.attempts = 2;
	env.next_attempt = 1700000600;
	assert_int_equal(smtp_queue_add(f->q, f->ms, sp, &env, &e), 0);
	assert_string_equal(env.id, mail_spool_id(sp));
	assert_int_equal(env.size, 17);

	char p[256], name[128];
	str_fmt(name, sizeof name, "%s.env", env.id);
	qpath(p, sizeof p, f, name);
	char *text = read_file(p);
	assert_string_equal(text,
		"inetkit-queue 1\n"
		"from \"odd%20%2541%20%3Cx%3E\"%09@ex%7Fample.org\n"
		"rcpt failure,delay j\xc3\xbcrgen@b\xc3\xbc" "cher.example rfc822;j\xc3\xbcrgen@example\n"
		"rcpt never %2D -\n"
		"rcpt - c@d <>\n"
		"ret hdrs\n"
		"envid QQ%20314159%0D%0A\n"
		"body 8bitmime\n"
		"smtputf8 yes\n"
		"auth alice\n"
		"client [::1]:5555\n"
		"helo client.example\n"
		"tls TLSv1.3%20TLS_AES_256_GCM_SHA384\n"
		"arrival 1700000000\n"
		"size 17\n"
		"attempts 2\n"
		"next 1700000600\n");
	free(text);

	struct smtp_envelope got;
	assert_int_equal(smtp_queue_read(f->q, env.id, &got, &e), 0);
	assert_string_equal(got.id, env.id);
	assert_string_equal(got.from, env.from);
	assert_int_equal(got.nrcpt, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(got.rcpt[i].addr, env.rcpt[i].addr);
		assert_int_equal(got.rcpt[i].notify, env.rcpt[i].notify);
	}
	assert_string_equal(got.rcpt[0].orcpt, env.rcpt[0].orcpt);
	assert_null(got.rcpt[1].orcpt);
	assert_string_equal(got.rcpt[2].orcpt, "");
	assert_int_equal(got.ret, SMTP_RET_HDRS);
	assert_string_equal(got.envid, "QQ 314159\r\n");
	assert_int_equal(got.body, SMTP_BODY_8BITMIME);
	assert_true(got.smtputf8);
	assert_string_equal(got.auth_user, "alice");
	assert_string_equal(got.client, "[::1]:5555");
	assert_string_equal(got.helo, "client.example");
	assert_string_equal(got.tls, "TLSv1.3 TLS_AES_256_GCM_SHA384");
	assert_int_equal(got.arrival, 1700000000);
	assert_int_equal(got.size, 17);
	assert_int_equal(got.attempts, 2);
	assert_int_equal(got.next_attempt, 1700000600);

	/* The message: the spool file itself, linked. */
	int fd = smtp_queue_open_msg(f->q, env.id, &e);
	assert_true(fd >= 0);
	struct stat a, b;
	fstat(fd, &a);
	fstat(mail_spool_fd(sp), &b);
	assert_int_equal(a.st_ino, b.st_ino);
	char buf[32] = "";
	assert_int_equal(read(fd, buf, sizeof buf), 17);
	assert_memory_equal(buf, "Subject: x\n\nbody\n", 17);
	close(fd);
	mail_spool_free(sp);
	fd = smtp_queue_open_msg(f->q, env.id, &e);
	assert_true(fd >= 0);	/* outlives the spool name */
	close(fd);

	/* An update (the relay's) is read back. */
	got.attempts = 3;
	free(got.rcpt[0].addr);
	got.rcpt[0].addr = strdup("x@y");
	assert_int_equal(smtp_queue_update(f->q, &got, &e), 0);
	smtp_envelope_clear(&got);
	assert_int_equal(smtp_queue_read(f->q, env.id, &got, &e), 0);
	assert_int_equal(got.attempts, 3);
	assert_string_equal(got.rcpt[0].addr, "x@y");
	smtp_envelope_clear(&got);
	smtp_envelope_clear(&env);
	smtp_envelope_clear(&env);	/* safe again, on a zeroed one */
}

static void ids_oldest_first(void **state)
{
	struct fx *f = *state;
	struct smtp_envelope env[4];
	struct mail_spool *sp[4];
	const int64_t arrival[4] = {300, 100, 200, 100};
	for (int i = 0; i < 4; i++)
		sp[i] = queue_one(f, &env[i], "a@b", arrival[i]);
	char **ids;
	size_t n;
	ik_err e = {""};
	assert_int_equal(smtp_queue_ids(f->q, &ids, &n, &e), 0);
	assert_int_equal(n, 4);
	/* 100 (made second), 100 (fourth: a later id), 200, 300. */
	assert_string_equal(ids[0], env[1].id);
	assert_string_equal(ids[1], env[3].id);
	assert_string_equal(ids[2], env[2].id);
	assert_string_equal(ids[3], env[0].id);
	smtp_queue_ids_free(ids, n);
	for (int i = 0; i < 4; i++) {
		smtp_envelope_clear(&env[i]);
		mail_spool_free(sp[i]);
	}
	/* Files that are no entries are not listed. */
	char p[256];
	qpath(p, sizeof p, f, "stray.txt");
	write_file(p, "x", 1);
	qpath(p, sizeof p, f, ".hidden.env");
	write_file(p, "x", 1);
	assert_int_equal(smtp_queue_ids(f->q, &ids, &n, &e), 0);
	assert_int_equal(n, 4);
	smtp_queue_ids_free(ids, n);
}

static void delete_entry(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	struct smtp_envelope env;
	struct mail_spool *sp = queue_one(f, &env, "", 5);
	assert_string_equal(env.from, "");
	char p[256], name[128];
	str_fmt(name, sizeof name, "%s.msg", env.id);
	qpath(p, sizeof p, f, name);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(smtp_queue_delete(f->q, env.id, &e), 0);
	assert_int_equal(access(p, F_OK), -1);
	struct smtp_envelope got;
	errno = 0;
	assert_int_equal(smtp_queue_read(f->q, env.id, &got, &e), -1);
	assert_int_equal(errno, ENOENT);
	char want[160];
	str_fmt(want, sizeof want, "no such queue entry %s", env.id);
	assert_string_equal(e.msg, want);
	assert_int_equal(smtp_queue_delete(f->q, env.id, &e), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(smtp_queue_update(f->q, &env, &e), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(smtp_queue_open_msg(f->q, env.id, &e), -1);
	/* Ids that could reach outside the queue name nothing. */
	assert_int_equal(smtp_queue_delete(f->q, "../mail", &e), -1);
	assert_string_equal(e.msg, "'../mail' is not a queue id (such as "
			    "1700000000.M123456P42Q1)");
	assert_int_equal(smtp_queue_read(f->q, ".x", &got, &e), -1);
	assert_int_equal(smtp_queue_read(f->q, "", &got, &e), -1);
	smtp_envelope_clear(&env);
	mail_spool_free(sp);
}

static void recover_leftovers(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	struct smtp_envelope env;
	struct mail_spool *sp = queue_one(f, &env, "a@b", 5);
	const char *junk[] = {"1.M1P1Q1.msg", "2.M1P1Q1.env.tmp", "3.M1P1Q1.msg.tmp"};
	char p[256];
	for (size_t i = 0; i < 3; i++) {
		qpath(p, sizeof p, f, junk[i]);
		write_file(p, "x", 1);
	}
	assert_int_equal(smtp_queue_recover(f->q, &e), 3);
	for (size_t i = 0; i < 3; i++) {
		qpath(p, sizeof p, f, junk[i]);
		assert_int_equal(access(p, F_OK), -1);
	}
	struct smtp_envelope got;
	assert_int_equal(smtp_queue_read(f->q, env.id, &got, &e), 0);
	int fd = smtp_queue_open_msg(f->q, env.id, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(smtp_queue_recover(f->q, &e), 0);
	smtp_envelope_clear(&got);
	smtp_envelope_clear(&env);
	mail_spool_free(sp);
}

static const char good[] =
	"inetkit-queue 1\n"
	"from a@b\n"
	"rcpt - c@d -\n"
	"arrival 5\n"
	"size 3\n";

struct bad_case {
	const char *text;
	const char *msg;
};

static void malformed_files(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{"", "q.env line 1: the file is empty"},
		{"From a@b\n", "q.env line 1: not a queue envelope: the first line must be "
		 "'inetkit-queue 1'"},
		{"inetkit-queue 2\n", "q.env line 1: format version '2' is not one this inetkit "
		 "reads (it reads 1)"},
		{"inetkit-queue 1\nfrom a@b\nrcpt - c@d -\ncolour blue\n",
		 "q.env line 4: unknown key 'colour'"},
		{"inetkit-queue 1\nfrom a@b\nfrom c@d\n", "q.env line 3: from is given twice"},
		{"inetkit-queue 1\nfrom a%zzb\n", "q.env line 2: from: '%' must start an escape "
		 "%01-%FF"},
		{"inetkit-queue 1\nfrom a%0\n", "q.env line 2: from: '%' must start an escape "
		 "%01-%FF"},
		{"inetkit-queue 1\nfrom a%00b\n", "q.env line 2: from: '%' must start an escape "
		 "%01-%FF"},
		{"inetkit-queue 1\nfrom a@b\r\n", "q.env line 2: from: byte 0x0d must be written "
		 "as %0D"},
		{"inetkit-queue 1\nfrom a@b c\n", "q.env line 2: from takes one value"},
		{"inetkit-queue 1\nfrom  a@b\n", "q.env line 2: empty field (one space between "
		 "fields, none at the end)"},
		{"inetkit-queue 1\nfrom a@b \n", "q.env line 2: empty field (one space between "
		 "fields, none at the end)"},
		{"inetkit-queue 1\nfrom -\n", "q.env line 2: from: the sender is '<>' for the null "
		 "reverse path, not '-'"},
		{"inetkit-queue 1\nrcpt - c@d\n", "q.env line 2: rcpt needs NOTIFY ADDRESS ORCPT "
		 "(use '-' for none)"},
		{"inetkit-queue 1\nrcpt sometimes c@d -\n", "q.env line 2: rcpt: NOTIFY 'sometimes' "
		 "is not never, success, failure or delay"},
		{"inetkit-queue 1\nrcpt never,delay c@d -\n", "q.env line 2: rcpt: NOTIFY never "
		 "cannot be combined with another"},
		{"inetkit-queue 1\nrcpt delay, c@d -\n", "q.env line 2: rcpt: NOTIFY ends with ','"},
		{"inetkit-queue 1\nrcpt - <> -\n", "q.env line 2: rcpt: the address must not be "
		 "empty"},
		{"inetkit-queue 1\nret some\n", "q.env line 2: ret: 'some' is not one of -, full, "
		 "hdrs"},
		{"inetkit-queue 1\nsmtputf8 1\n", "q.env line 2: smtputf8: '1' is not one of no, yes"},
		{"inetkit-queue 1\narrival -5\n", "q.env line 2: arrival: '-5' is not a number from "
		 "0 to 9223372036854775807"},
		{"inetkit-queue 1\nsize 99999999999999999999\n", "q.env line 2: size: "
		 "'99999999999999999999' is not a number from 0 to 9223372036854775807"},
		{"inetkit-queue 1\nattempts 4294967296\n", "q.env line 2: attempts: '4294967296' "
		 "is not a number from 0 to 4294967295"},
		{"inetkit-queue 1\nhelo a\0b\n", "q.env line 2: a NUL byte in the line"},
		{"inetkit-queue 1\nfrom a@b\narrival 5\nsize 3\n", "q.env: no 'rcpt' line (an "
		 "envelope needs from, rcpt, arrival and size)"},
		{"inetkit-queue 1\nfrom a@b\nrcpt - c@d -\nsize 3\n", "q.env: no 'arrival' line (an "
		 "envelope needs from, rcpt, arrival and size)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct smtp_envelope env = {0};
		str_copy(env.id, sizeof env.id, "ID");
		ik_err e = {""};
		size_t len = strlen(cases[i].text);
		if (strstr(cases[i].msg, "NUL") != NULL)
			len = sizeof "inetkit-queue 1\nhelo a\0b\n" - 1;
		assert_int_equal(smtp_queue_env_parse(cases[i].text, len, "q.env", &env, &e), -1);
		assert_string_equal(e.msg, cases[i].msg);
		assert_string_equal(env.id, "ID");
		assert_null(env.from);
		assert_int_equal(env.nrcpt, 0);
	}
	/* The good one, with comments, blank lines and no final LF. */
	struct smtp_envelope env = {0};
	ik_err e = {""};
	const char *text = "inetkit-queue 1\n# edited by hand\n\nfrom <>\nrcpt - c@d -\n"
			   "arrival 5\nsize 3";
	assert_int_equal(smtp_queue_env_parse(text, strlen(text), "q.env", &env, &e), 0);
	assert_string_equal(env.from, "");
	assert_int_equal(env.size, 3);
	smtp_envelope_clear(&env);
	assert_int_equal(smtp_queue_env_parse(good, strlen(good), "q.env", &env, &e), 0);
	smtp_envelope_clear(&env);
}

static void malformed_file_on_disk(void **state)
{
	struct fx *f = *state;
	ik_err e = {""};
	char p[256];
	qpath(p, sizeof p, f, "9.M1P1Q1.env");
	write_file(p, "inetkit-queue 1\nfrom a@b\nrcpt - c@d -\narrival soon\n", 51);
	struct smtp_envelope env;
	assert_int_equal(smtp_queue_read(f->q, "9.M1P1Q1", &env, &e), -1);
	char want[256];
	str_fmt(want, sizeof want, "%s/queue/9.M1P1Q1.env line 4: arrival: 'soon' is not a "
		"number from 0 to 9223372036854775807", f->dir);
	assert_string_equal(e.msg, want);
	/* Still listed (first), so that it can be seen and deleted. */
	char **ids;
	size_t n;
	assert_int_equal(smtp_queue_ids(f->q, &ids, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "9.M1P1Q1");
	smtp_queue_ids_free(ids, n);
	/* By name: never read, so listed all the same, by its id's time. */
	qpath(p, sizeof p, f, "10.M1P1Q1.env");
	write_file(p, "x", 1);
	qpath(p, sizeof p, f, "x.M1P1Q1.env");
	write_file(p, "x", 1);
	assert_int_equal(smtp_queue_ids_by_name(f->q, &ids, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], "x.M1P1Q1");
	assert_string_equal(ids[1], "9.M1P1Q1");
	assert_string_equal(ids[2], "10.M1P1Q1");
	smtp_queue_ids_free(ids, n);
	assert_int_equal(smtp_queue_delete(f->q, "10.M1P1Q1", &e), 0);
	assert_int_equal(smtp_queue_delete(f->q, "x.M1P1Q1", &e), 0);
	assert_int_equal(smtp_queue_delete(f->q, "9.M1P1Q1", &e), 0);
	/* A link in place of an envelope is not followed. */
	qpath(p, sizeof p, f, "8.M1P1Q1.env");
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(smtp_queue_read(f->q, "8.M1P1Q1", &env, &e), -1);
	str_fmt(want, sizeof want, "cannot open %s/queue/8.M1P1Q1.env", f->dir);
	assert_true(str_has_prefix(e.msg, want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip_with_odd_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(ids_oldest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(delete_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(recover_leftovers, setup, teardown),
		cmocka_unit_test(malformed_files),
		cmocka_unit_test_setup_teardown(malformed_file_on_disk, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
