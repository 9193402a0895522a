/* `inetkit queue list | show ID | delete ID`: the outbound queue that
 * smtpd fills and the relay empties (smtp_queue.h), for people (a table,
 * the envelope in words) and for programs (--json). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/account.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/fsutil.h"
#include "core/term.h"
#include "lib/json.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "smtp/smtp_queue.h"
#include "commands.h"
#include "smtp/smtp_relay.h"

#define CMD "queue"
#define JSON_MAX (256u << 20)

static const char help_text[] =
	"Usage: inetkit queue VERB [ID] [OPTIONS]\n"
	"\n"
	"Read the outbound mail queue: messages for other domains that inetkit smtpd\n"
	"accepted from authenticated users or relay networks, waiting for delivery.\n"
	"\n"
	"Verbs:\n"
	"  list [--json]        every entry, oldest first: id, arrival, size, sender,\n"
	"                       recipients; then the total\n"
	"  show ID [--json]     one entry's envelope in full\n"
	"  delete ID            remove an entry (its envelope, then its message)\n"
	"  flush                every entry not on hold is due now; the relay is woken\n"
	"  hold ID              the relay leaves the entry alone until released\n"
	"  release ID           end a hold; the entry is due now\n"
	"\n"
	"Where the queue is (STATE_DIR/queue):\n"
	"  --state-dir DIR      the state directory\n"
	"  --config FILE        the file's [serve] state_dir\n"
	"  (neither: " ACCOUNT_DEFAULT_STATE_DIR ")\n"
	"\n"
	"Exit status: 0 ok, 1 failed (no such entry, an unreadable entry or queue),\n"
	"2 bad input. See inetkit-queue(1).\n";

struct ctx {
	const char *verb;
	const char *state_opt, *config;
	bool json;
	char state_dir[ACCOUNT_PATH_MAX];
	char queue_dir[ACCOUNT_PATH_MAX + 8];
	struct smtp_queue *q;	/* NULL: there is no queue directory yet */
};

struct verb {
	const char *name;
	int nargs;	/* 1: takes an ID */
	bool json;	/* takes --json */
	int (*run)(struct ctx *c, const char *id);
};

static const struct option long_opts[] = {
	{"json", no_argument, NULL, 'j'},
	{"state-dir", required_argument, NULL, 's'},
	{"config", required_argument, NULL, 'c'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void put_safe_line(const char *label, const char *s)
{
	printf("%-14s", label);
	term_put_safe(stdout, s);
	putchar('\n');
}

static const char *time_text(int64_t t, char *buf, size_t bufsz)
{
	return account_format_time(t, buf, bufsz);
}

/* ---- list ---- */

static void json_entry(struct json *j, const struct smtp_envelope *env, const char *err)
{
	char t[32];
	json_obj_begin(j);
	json_kv_str(j, "id", env->id);
	if (err != NULL) {
		json_kv_str(j, "error", err);
		json_obj_end(j);
		return;
	}
	json_kv_str(j, "arrival", time_text(env->arrival, t, sizeof t));
	json_kv_uint(j, "size", env->size);
	json_kv_str(j, "from", env->from);
	json_kv_uint(j, "recipients", env->nrcpt);
	json_key(j, "to");
	json_arr_begin(j);
	for (size_t i = 0; i < env->nrcpt; i++)
		json_str(j, env->rcpt[i].addr);
	json_arr_end(j);
	json_kv_uint(j, "attempts", env->attempts);
	json_kv_bool(j, "hold", env->hold);
	json_obj_end(j);
}

static int print_json(struct sbuf *b, int rc)
{
	fwrite(sbuf_cstr(b), 1, b->len, stdout);
	fputc('\n', stdout);
	sbuf_free(b);
	return rc;
}

static int run_list(struct ctx *c, const char *unused)
{
	(void)unused;
	ik_err e;
	char **ids = NULL;
	size_t n = 0;
	if (c->q != NULL && smtp_queue_ids(c->q, &ids, &n, &e) < 0)
		return cli_error(CMD, CLI_FAIL, "%s", e.msg);
	struct sbuf b = SBUF_INIT(JSON_MAX);
	struct json j;
	if (c->json) {
		json_init(&j, &b);
		json_arr_begin(&j);
	} else if (n > 0) {
		printf("%-32s  %-20s  %10s  %5s  %s\n", "ID", "ARRIVAL", "SIZE", "RCPTS", "FROM");
	}
	int rc = CLI_OK;
	uint64_t bytes = 0, rcpts = 0;
	for (size_t i = 0; i < n; i++) {
		struct smtp_envelope env;
		if (smtp_queue_read(c->q, ids[i], &env, &e) < 0) {
			/* Listed, so that it can be shown and deleted. */
			rc = CLI_FAIL;
			if (c->json) {
				str_copy(env.id, sizeof env.id, ids[i]);
				json_entry(&j, &env, e.msg);
			} else {
				printf("%-32s  %s\n", ids[i], "(unreadable envelope: see the error)");
			}
			fprintf(stderr, "inetkit queue: ");
			term_put_safe(stderr, e.msg);
			fputc('\n', stderr);
			continue;
		}
		bytes += env.size;
		rcpts += env.nrcpt;
		if (c->json) {
			json_entry(&j, &env, NULL);
		} else {
			char t[32], from[600];
			term_safe_copy(from, sizeof from, env.from[0] ? env.from : "<>");
			printf("%-32s  %-20s  %10llu  %5zu  %s\n", env.id,
			       time_text(env.arrival, t, sizeof t), (unsigned long long)env.size,
			       env.nrcpt, from);
		}
		smtp_envelope_clear(&env);
	}
	smtp_queue_ids_free(ids, n);
	if (c->json) {
		json_arr_end(&j);
		return print_json(&b, rc);
	}
	if (n == 0)
		printf("The queue is empty (%s).\n", c->queue_dir);
	else
		printf("total: %zu message%s, %llu bytes, %llu recipient%s\n", n, n == 1 ? "" : "s",
		       (unsigned long long)bytes, (unsigned long long)rcpts, rcpts == 1 ? "" : "s");
	return rc;
}

/* ---- show ---- */

static const char *ret_words(enum smtp_ret r)
{
	return r == SMTP_RET_FULL ? "full message" : r == SMTP_RET_HDRS ? "headers only"
	       : "not given";
}

static const char *body_words(enum smtp_body_type t)
{
	return t == SMTP_BODY_8BITMIME ? "8BITMIME" : t == SMTP_BODY_BINARYMIME ? "BINARYMIME"
	       : "7BIT";
}

static void json_kv_str_or_null(struct json *j, const char *key, const char *s)
{
	if (s == NULL)
		json_kv_null(j, key);
	else
		json_kv_str(j, key, s);
}

static int show_json(const struct ctx *c, const struct smtp_envelope *env, const char *msg)
{
	struct sbuf b = SBUF_INIT(JSON_MAX);
	struct json j;
	char t[32], notify[64];
	json_init(&j, &b);
	json_obj_begin(&j);
	json_kv_str(&j, "id", env->id);
	json_kv_str(&j, "arrival", time_text(env->arrival, t, sizeof t));
	json_kv_uint(&j, "size", env->size);
	json_kv_str(&j, "from", env->from);
	json_key(&j, "recipients");
	json_arr_begin(&j);
	for (size_t i = 0; i < env->nrcpt; i++) {
		json_obj_begin(&j);
		json_kv_str(&j, "address", env->rcpt[i].addr);
		json_kv_str_or_null(&j, "notify", env->rcpt[i].notify == 0 ? NULL :
				    smtp_queue_notify_text(env->rcpt[i].notify, notify, sizeof notify));
		json_kv_str_or_null(&j, "orcpt", env->rcpt[i].orcpt);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_kv_str_or_null(&j, "ret", env->ret == SMTP_RET_UNSET ? NULL :
			    smtp_queue_ret_word(env->ret));
	json_kv_str_or_null(&j, "envid", env->envid);
	json_kv_str(&j, "body", smtp_queue_body_word(env->body));
	json_kv_bool(&j, "smtputf8", env->smtputf8);
	json_kv_str_or_null(&j, "auth_user", env->auth_user);
	json_kv_str_or_null(&j, "client", env->client);
	json_kv_str_or_null(&j, "helo", env->helo);
	json_kv_str_or_null(&j, "tls", env->tls);
	json_kv_uint(&j, "attempts", env->attempts);
	json_kv_bool(&j, "hold", env->hold);
	json_kv_str_or_null(&j, "last_error", env->last_error);
	if (env->next_attempt == 0)
		json_kv_null(&j, "next_attempt");
	else
		json_kv_str(&j, "next_attempt", time_text(env->next_attempt, t, sizeof t));
	json_kv_str(&j, "message", msg);
	json_obj_end(&j);
	(void)c;
	return print_json(&b, CLI_OK);
}

static int no_entry(const char *id)
{
	return cli_error(CMD, CLI_FAIL, "no such queue entry %s (see inetkit queue list)", id);
}

static int run_show(struct ctx *c, const char *id)
{
	ik_err e;
	struct smtp_envelope env;
	if (c->q == NULL)
		return no_entry(id);
	if (smtp_queue_read(c->q, id, &env, &e) < 0)
		return errno == ENOENT ? no_entry(id) : cli_error(CMD, CLI_FAIL, "%s", e.msg);
	char msg[ACCOUNT_PATH_MAX + 80];
	str_fmt(msg, sizeof msg, "%s/%s.msg", c->queue_dir, env.id);
	if (c->json) {
		int rc = show_json(c, &env, msg);
		smtp_envelope_clear(&env);
		return rc;
	}
	char t[32], line[1200], notify[64];
	printf("%-14s%s\n", "id:", env.id);
	printf("%-14s%s\n", "arrival:", time_text(env.arrival, t, sizeof t));
	printf("%-14s%llu bytes\n", "size:", (unsigned long long)env.size);
	str_fmt(line, sizeof line, "<%s>", env.from);
	put_safe_line("from:", line);
	printf("%-14s%zu\n", "recipients:", env.nrcpt);
	for (size_t i = 0; i < env.nrcpt; i++) {
		const struct smtp_env_rcpt *r = &env.rcpt[i];
		str_fmt(line, sizeof line, "<%s>%s%s%s%s", r->addr,
			r->notify ? "  notify " : "",
			r->notify ? smtp_queue_notify_text(r->notify, notify, sizeof notify) : "",
			r->orcpt ? "  orcpt " : "", r->orcpt ? r->orcpt : "");
		put_safe_line("", line);
	}
	put_safe_line("envid:", env.envid ? env.envid : "not given");
	printf("%-14s%s\n", "return:", ret_words(env.ret));
	printf("%-14s%s%s\n", "body:", body_words(env.body), env.smtputf8 ? ", SMTPUTF8" : "");
	put_safe_line("client:", env.client ? env.client : "unknown");
	put_safe_line("helo:", env.helo ? env.helo : "unknown");
	put_safe_line("auth:", env.auth_user ? env.auth_user : "none");
	put_safe_line("tls:", env.tls ? env.tls : "none");
	printf("%-14s%u\n", "attempts:", env.attempts);
	printf("%-14s%s\n", "next attempt:", env.next_attempt == 0 ? "now" :
	       time_text(env.next_attempt, t, sizeof t));
	if (env.hold)
		printf("%-14s%s\n", "hold:", "yes (inetkit queue release ID)");
	if (env.last_error != NULL)
		put_safe_line("last error:", env.last_error);
	put_safe_line("message:", msg);
	smtp_envelope_clear(&env);
	return CLI_OK;
}

/* ---- delete ---- */

static int run_delete(struct ctx *c, const char *id)
{
	ik_err e;
	if (c->q == NULL)
		return no_entry(id);
	if (smtp_queue_delete(c->q, id, &e) < 0)
		return errno == ENOENT ? no_entry(id) : cli_error(CMD, CLI_FAIL, "%s", e.msg);
	printf("deleted %s\n", id);
	return CLI_OK;
}

/* ---- flush, hold, release: the envelope changed, then the runner woken
 * through the control file STATE_DIR/queue/.wake (smtp_relay.h) ---- */

static int set_entry(struct ctx *c, const char *id, int hold, bool due, ik_err *e)
{
	struct smtp_envelope env = {0};
	str_copy(env.id, sizeof env.id, id);
	if (smtp_queue_read(c->q, id, &env, e) < 0)
		return -1;
	if (hold >= 0)
		env.hold = hold == 1;
	if (due)
		env.next_attempt = 0;
	int rc = smtp_queue_update(c->q, &env, e);
	smtp_envelope_clear(&env);
	return rc;
}

static int run_flush(struct ctx *c, const char *unused)
{
	(void)unused;
	ik_err e;
	size_t n = 0, done = 0;
	char **ids = NULL;
	if (c->q != NULL) {
		if (smtp_queue_ids(c->q, &ids, &n, &e) < 0)
			return cli_error(CMD, CLI_FAIL, "%s", e.msg);
		for (size_t i = 0; i < n; i++)
			if (set_entry(c, ids[i], -1, true, &e) == 0)
				done++;
		smtp_queue_ids_free(ids, n);
		if (smtp_relay_wake_file(c->state_dir, &e) < 0)
			return cli_error(CMD, CLI_FAIL, "%s", e.msg);
	}
	printf("flushed %zu message%s\n", done, done == 1 ? "" : "s");
	return CLI_OK;
}

static int run_hold_release(struct ctx *c, const char *id)
{
	ik_err e;
	bool hold = strcmp(c->verb, "hold") == 0;
	if (c->q == NULL)
		return no_entry(id);
	if (set_entry(c, id, hold ? 1 : 0, !hold, &e) < 0)
		return errno == ENOENT ? no_entry(id) : cli_error(CMD, CLI_FAIL, "%s", e.msg);
	if (!hold && smtp_relay_wake_file(c->state_dir, &e) < 0)
		return cli_error(CMD, CLI_FAIL, "%s", e.msg);
	printf("%s %s\n", hold ? "held" : "released", id);
	return CLI_OK;
}

static const struct verb verbs[] = {
	{"list", 0, true, run_list},
	{"show", 1, true, run_show},
	{"delete", 1, false, run_delete},
	{"flush", 0, false, run_flush},
	{"hold", 1, false, run_hold_release},
	{"release", 1, false, run_hold_release},
};

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* The state directory from --state-dir, --config or the default; then
 * the queue in it, if there is one (reading never makes it). */
static int open_queue(struct ctx *c)
{
	ik_err e;
	if (c->state_opt != NULL && c->config != NULL)
		return cli_usage_error(CMD, "give --state-dir or --config, not both");
	if (c->config != NULL) {
		struct cfg *cfg = cfg_load(c->config, &e);
		int rc = cfg == NULL ? -1 : account_state_dir(cfg, c->state_dir,
							      sizeof c->state_dir, &e);
		cfg_free(cfg);
		if (rc < 0)
			return cli_error(CMD, CLI_USAGE, "%s", e.msg);
	} else if (fs_absolute(c->state_opt ? c->state_opt : ACCOUNT_DEFAULT_STATE_DIR,
			       c->state_dir, sizeof c->state_dir, &e) < 0) {
		return cli_usage_error(CMD, "--state-dir: %s", e.msg);
	}
	str_fmt(c->queue_dir, sizeof c->queue_dir, "%s/queue", c->state_dir);
	struct stat st;
	if (stat(c->state_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return cli_error(CMD, CLI_FAIL, "the state directory %s %s; name the one smtpd uses "
				 "with --state-dir DIR or --config FILE", c->state_dir,
				 errno == ENOENT ? "does not exist" : "cannot be read");
	if (stat(c->queue_dir, &st) < 0 && errno == ENOENT)
		return 0;	/* no mail was ever queued */
	if (smtp_queue_open(c->state_dir, &c->q, &e) < 0)
		return cli_error(CMD, CLI_FAIL, "%s%s", e.msg, errno == EACCES ?
				 "; run as the user smtpd runs as, or as root" : "");
	return 0;
}

int cmd_queue(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(CMD, "missing verb (list, show, delete, flush, hold or release)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return cli_help(help_text);
	const struct verb *v = find_verb(argv[1]);
	if (v == NULL)
		return cli_unknown(CMD, argv[1], CLI_NAMES(verbs), "unknown verb '%s' (use list, "
				   "show, delete, flush, hold or release)", argv[1]);
	struct ctx c = {.verb = v->name};
	opterr = 0;
	optind = 0;
	int ch;
	/* getopt sees the verb as its argv[0]. */
	while ((ch = getopt_long(argc - 1, argv + 1, ":h", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			return cli_help(help_text);
		case 'j':
			if (!v->json)
				return cli_usage_error(CMD, "option --json does not apply to "
						       "'queue %s'", v->name);
			c.json = true;
			break;
		case 's':
			c.state_opt = optarg;
			break;
		case 'c':
			c.config = optarg;
			break;
		case ':':
			return cli_usage_error(CMD, "option '%s' needs a value", argv[optind]);
		default:
			return cli_unknown_option(CMD, argv[optind], CLI_NAMES(long_opts));
		}
	}
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;
	if (nargs < v->nargs)
		return cli_usage_error(CMD, "'queue %s' needs a queue ID (see inetkit queue list)",
				       v->name);
	if (nargs > v->nargs)
		return cli_usage_error(CMD, "unexpected argument '%s'", args[v->nargs]);
	const char *id = v->nargs ? args[0] : NULL;
	ik_err e;
	if (id != NULL && smtp_queue_id_check(id, &e) < 0)
		return cli_usage_error(CMD, "%s", e.msg);
	int rc = open_queue(&c);
	if (rc == 0)
		rc = v->run(&c, id);
	smtp_queue_free(c.q);
	return rc;
}
