/* `inetkit user list | show | log`: accounts and logins, as a table for
 * people or as JSON (--json) for programs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/account_lockout.h"
#include "core/account_verify.h"
#include "core/cli.h"
#include "lib/json.h"
#include "lib/str.h"
#include "core/term.h"
#include "tools/user_tool.h"

#define JSON_MAX (64u << 20)

static const char *state_of(const struct account *a, int64_t now)
{
	if (a->disabled)
		return "disabled";
	if (a->expires != 0 && now >= a->expires)
		return "expired";
	return "active";
}

static const char *size_text(uint64_t v, char *buf, size_t bufsz)
{
	static const struct { uint64_t mul; const char *u; } units[] = {
		{1ULL << 40, "T"}, {1ULL << 30, "G"}, {1ULL << 20, "M"}, {1ULL << 10, "k"},
	};
	if (v == 0) {
		str_copy(buf, bufsz, "-");
		return buf;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (v % units[i].mul == 0) {
			str_fmt(buf, bufsz, "%llu%s", (unsigned long long)(v / units[i].mul), units[i].u);
			return buf;
		}
	str_fmt(buf, bufsz, "%llu", (unsigned long long)v);
	return buf;
}

static void json_time_or_null(struct json *j, const char *key, int64_t t)
{
	char buf[32];
	if (t == 0)
		json_kv_null(j, key);
	else
		json_kv_str(j, key, account_format_time(t, buf, sizeof buf));
}

static void json_account(struct json *j, const struct account *a, int64_t now)
{
	json_kv_str(j, "name", a->name);
	json_kv_str(j, "class", account_class_name(a->cls));
	json_kv_str(j, "rights", account_rights_name(a->rights));
	json_kv_str(j, "home", a->home);
	json_kv_uint(j, "quota", a->quota);
	json_time_or_null(j, "expires", a->expires);
	json_time_or_null(j, "created", a->created);
	json_kv_bool(j, "disabled", a->disabled);
	json_kv_str(j, "state", state_of(a, now));
}

struct account_array {
	struct account *v;
	size_t n, cap;
};

static int collect(const struct account *a, void *arg)
{
	struct account_array *arr = arg;
	if (arr->n == arr->cap) {
		size_t cap = arr->cap ? arr->cap * 2 : 16;
		void *p = realloc(arr->v, cap * sizeof *arr->v);
		if (p == NULL)
			return -1;
		arr->v = p;
		arr->cap = cap;
	}
	arr->v[arr->n++] = *a;
	return 0;
}

int user_list(struct user_ctx *c)
{
	ik_err e;
	struct account_array arr = {0};
	if (account_store_list(c->store, collect, &arr, &e) < 0) {
		free(arr.v);
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	}
	int64_t now = (int64_t)time(NULL);
	if (c->json) {
		struct sbuf b = SBUF_INIT(JSON_MAX);
		struct json j;
		json_init(&j, &b);
		json_arr_begin(&j);
		for (size_t i = 0; i < arr.n; i++) {
			json_obj_begin(&j);
			json_account(&j, &arr.v[i], now);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		free(arr.v);
		return user_print_json(&b);
	}
	int w = 4;
	for (size_t i = 0; i < arr.n; i++)
		if ((int)strlen(arr.v[i].name) > w)
			w = (int)strlen(arr.v[i].name);
	printf("%-*s  %-5s  %-6s  %-8s  %-20s  %-5s  %s\n", w, "NAME", "CLASS", "RIGHTS", "STATE",
	       "EXPIRES", "QUOTA", "HOME");
	for (size_t i = 0; i < arr.n; i++) {
		const struct account *a = &arr.v[i];
		char when[32] = "never", q[32];
		if (a->expires != 0)
			account_format_time(a->expires, when, sizeof when);
		printf("%-*s  %-5s  %-6s  %-8s  %-20s  %-5s  %s\n", w, a->name,
		       account_class_name(a->cls), account_rights_name(a->rights), state_of(a, now),
		       when, size_text(a->quota, q, sizeof q), a->home);
	}
	if (arr.n == 0)
		fprintf(stderr, "inetkit user: no accounts yet; add one with 'inetkit user add NAME'\n");
	free(arr.v);
	return CLI_OK;
}

static int keep_one(const struct account_login *l, void *arg)
{
	*(struct account_login *)arg = *l;
	return -1;	/* one is enough */
}

int user_show(struct user_ctx *c)
{
	struct account a;
	int rc = user_get(c, &a);
	if (rc != 0)
		return rc;
	ik_err e;
	int64_t tokens = 0, until = 0;
	struct account_login last;
	memset(&last, 0, sizeof last);
	char key[ACCOUNT_LOCKOUT_KEY_MAX];
	account_lockout_key(key, sizeof key, "user", a.name);
	if (account_store_token_count(c->store, a.id, &tokens, &e) < 0 ||
	    account_lockout_check(c->store, key, account_now_ms(), &until, &e) < 0 ||
	    account_store_log_list(c->store, a.name, 1, keep_one, &last, &e) < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	int64_t now = (int64_t)time(NULL);
	char t1[32], t2[32], q[32];
	if (c->json) {
		struct sbuf b = SBUF_INIT(JSON_MAX);
		struct json j;
		json_init(&j, &b);
		json_obj_begin(&j);
		json_account(&j, &a, now);
		json_kv_int(&j, "app_passwords", tokens);
		json_time_or_null(&j, "locked_until", until / 1000);
		json_key(&j, "last_login");
		if (last.time_ms == 0) {
			json_null(&j);
		} else {
			json_obj_begin(&j);
			json_kv_str(&j, "time", account_format_time(last.time_ms / 1000, t1, sizeof t1));
			json_kv_str(&j, "service", last.service);
			json_kv_str(&j, "peer", last.peer);
			json_kv_str(&j, "result", last.result);
			json_obj_end(&j);
		}
		json_obj_end(&j);
		return user_print_json(&b);
	}
	printf("name:          %s\n", a.name);
	printf("class:         %s\n", account_class_name(a.cls));
	printf("rights:        %s\n", account_rights_name(a.rights));
	printf("home:          %s\n", a.home);
	printf("quota:         %s\n", a.quota ? size_text(a.quota, q, sizeof q) : "none");
	printf("expires:       %s\n", a.expires ? account_format_time(a.expires, t1, sizeof t1) : "never");
	printf("state:         %s\n", state_of(&a, now));
	if (until != 0)
		printf("locked until:  %s (too many failed logins; 'user enable' unlocks)\n",
		       account_format_time(until / 1000, t2, sizeof t2));
	printf("created:       %s\n", account_format_time(a.created, t1, sizeof t1));
	printf("app passwords: %lld\n", (long long)tokens);
	if (last.time_ms != 0)
		printf("last login:    %s %s from %s: %s\n",
		       account_format_time(last.time_ms / 1000, t1, sizeof t1), last.service,
		       last.peer, last.result);
	else
		printf("last login:    never\n");
	return CLI_OK;
}

static int print_login(const struct account_login *l, void *arg)
{
	const struct user_rows *o = arg;
	char t[32], user[ACCOUNT_LABEL_MAX + 1];
	account_format_time(l->time_ms / 1000, t, sizeof t);
	if (o->j != NULL) {
		json_obj_begin(o->j);
		json_kv_str(o->j, "time", t);
		json_kv_str(o->j, "service", l->service);
		json_kv_str(o->j, "user", l->user);
		json_kv_str(o->j, "peer", l->peer);
		json_kv_str(o->j, "result", l->result);
		json_obj_end(o->j);
		return 0;
	}
	/* User names in the log were typed by clients: they may hold anything. */
	printf("%-20s  %-7s  %-16s  %-24s  %s\n", t, l->service,
	       term_safe_copy(user, sizeof user, l->user), l->peer, l->result);
	return 0;
}

int user_log(struct user_ctx *c)
{
	uint64_t limit = 20;
	if (c->limit != NULL && (str_to_u64(c->limit, 10000, &limit) < 0 || limit == 0))
		return cli_usage_error(USER_CMD, "--limit '%s' is not a number from 1 to 10000",
				       c->limit);
	const char *user = c->nargs > 0 ? c->args[0] : NULL;
	ik_err e;
	struct user_rows rows;
	user_rows_begin(c, &rows, JSON_MAX, "%-20s  %-7s  %-16s  %-24s  %s\n", "TIME", "SERVICE",
			"USER", "PEER", "RESULT");
	int rc = account_store_log_list(c->store, user, (unsigned)limit, print_login, &rows, &e);
	return user_rows_end(&rows, rc, &e);
}
