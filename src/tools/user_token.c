/* `inetkit user token add | list | revoke` (app passwords) and
 * `inetkit user verify` (a login checked exactly as a service checks it). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/account_hash.h"
#include "core/account_verify.h"
#include "core/cli.h"
#include "lib/json.h"
#include "lib/str.h"
#include "ftpd/ftpd_anon.h"
#include "tools/user_tool.h"

static void json_services(struct json *j, const char *list)
{
	json_key(j, "services");
	json_arr_begin(j);
	for (size_t i = 0; account_services[i] != NULL; i++)
		if (account_services_has(list, account_services[i]))
			json_str(j, account_services[i]);
	json_arr_end(j);
}

int user_token_add(struct user_ctx *c)
{
	ik_err e;
	if (c->label == NULL)
		return cli_usage_error(USER_CMD, "'user token add' needs --label LABEL (say which "
				       "client it is for, e.g. --label phone)");
	if (account_label_check(c->label, &e) < 0)
		return cli_usage_error(USER_CMD, "%s", e.msg);
	struct account_token t;
	memset(&t, 0, sizeof t);
	const char *services = c->services ? c->services : "ftp,smtp,pop3,imap";
	if (account_services_parse(services, t.services, sizeof t.services, &e) < 0)
		return cli_usage_error(USER_CMD, "--services: %s", e.msg);
	struct account a;
	int rc = user_get(c, &a);
	if (rc != 0)
		return rc;
	char token[ACCOUNT_TOKEN_LEN + 1], digest[ACCOUNT_DIGEST_LEN + 1];
	if (account_token_new(token, sizeof token, &e) < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	account_token_digest(token, digest);
	t.account_id = a.id;
	t.created = (int64_t)time(NULL);
	str_copy(t.label, sizeof t.label, c->label);
	rc = account_store_token_add(c->store, &t, digest, &e);
	if (rc <= 0) {
		account_wipe(token, sizeof token);
		if (rc == 0)
			return cli_error(USER_CMD, CLI_FAIL, "%s already has an app password labelled "
					 "'%s'; revoke it first or choose another label", a.name, t.label);
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	}
	if (c->json) {
		struct sbuf b = SBUF_INIT(4096);
		struct json j;
		json_init(&j, &b);
		json_obj_begin(&j);
		json_kv_int(&j, "id", t.id);
		json_kv_str(&j, "user", a.name);
		json_kv_str(&j, "label", t.label);
		json_services(&j, t.services);
		json_kv_str(&j, "password", token);
		json_obj_end(&j);
		account_wipe(token, sizeof token);
		return user_print_json(&b);
	}
	/* The password alone on stdout, so that $(...) captures just it. */
	printf("%s\n", token);
	account_wipe(token, sizeof token);
	fprintf(stderr, "inetkit user: new app password '%s' (id %lld) for %s, valid for %s; "
		"it is shown only this once\n", t.label, (long long)t.id, a.name, t.services);
	return CLI_OK;
}

static int print_token(const struct account_token *t, void *arg)
{
	const struct user_rows *o = arg;
	char created[32], used[32] = "never";
	account_format_time(t->created, created, sizeof created);
	if (t->last_used != 0)
		account_format_time(t->last_used, used, sizeof used);
	if (o->j != NULL) {
		json_obj_begin(o->j);
		json_kv_int(o->j, "id", t->id);
		json_kv_str(o->j, "label", t->label);
		json_services(o->j, t->services);
		json_kv_str(o->j, "created", created);
		if (t->last_used == 0) {
			json_kv_null(o->j, "last_used");
		} else {
			json_key(o->j, "last_used");
			json_obj_begin(o->j);
			json_kv_str(o->j, "time", used);
			json_kv_str(o->j, "service", t->last_service);
			json_kv_str(o->j, "peer", t->last_peer);
			json_obj_end(o->j);
		}
		json_obj_end(o->j);
		return 0;
	}
	char last[160] = "never";
	if (t->last_used != 0)
		str_fmt(last, sizeof last, "%s %s from %s", used, t->last_service, t->last_peer);
	printf("%-4lld  %-20s  %-18s  %-20s  %s\n", (long long)t->id, t->label, t->services,
	       created, last);
	return 0;
}

int user_token_list(struct user_ctx *c)
{
	struct account a;
	int rc = user_get(c, &a);
	if (rc != 0)
		return rc;
	ik_err e;
	struct user_rows rows;
	user_rows_begin(c, &rows, 16u << 20, "%-4s  %-20s  %-18s  %-20s  %s\n", "ID", "LABEL",
			"SERVICES", "CREATED", "LAST USED");
	rc = account_store_token_list(c->store, a.id, print_token, &rows, &e);
	return user_rows_end(&rows, rc, &e);
}

int user_token_revoke(struct user_ctx *c)
{
	struct account a;
	int rc = user_get(c, &a);
	if (rc != 0)
		return rc;
	ik_err e;
	struct account_token gone;
	rc = account_store_token_revoke(c->store, a.id, c->args[1], &gone, &e);
	if (rc < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	if (rc == 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s has no app password with label or id '%s' "
				 "(see 'inetkit user token list %s')", a.name, c->args[1], a.name);
	printf("revoked app password '%s' (id %lld) of %s\n", gone.label, (long long)gone.id, a.name);
	return CLI_OK;
}

static int refused(const struct account_result *r, const struct account_query *q)
{
	char t[32];
	switch (r->status) {
	case ACCOUNT_UNKNOWN:
		return cli_error(USER_CMD, CLI_FAIL, "login refused: no account named '%s'", q->name);
	case ACCOUNT_BAD_PASSWORD:
		return cli_error(USER_CMD, CLI_FAIL, "login refused: wrong password for %s", q->name);
	case ACCOUNT_WRONG_SERVICE:
		return cli_error(USER_CMD, CLI_FAIL, "login refused: that app password of %s is not "
				 "valid for %s", q->name, q->service);
	case ACCOUNT_EXPIRED:
		return cli_error(USER_CMD, CLI_FAIL, "login refused: account %s has expired", q->name);
	case ACCOUNT_DISABLED:
		return cli_error(USER_CMD, CLI_FAIL, "login refused: account %s is disabled", q->name);
	case ACCOUNT_LOCKED:
		return cli_error(USER_CMD, CLI_FAIL, "login refused: locked after too many failed "
				 "logins, until %s", account_format_time(r->locked_until / 1000, t, sizeof t));
	case ACCOUNT_NO_ANONYMOUS:
		return cli_error(USER_CMD, CLI_FAIL, "login refused: anonymous login is not enabled "
				 "for %s", q->service);
	default:
		return cli_error(USER_CMD, CLI_FAIL, "login refused: %s", account_status_public(r->status));
	}
}

int user_verify(struct user_ctx *c)
{
	ik_err e;
	if (c->service == NULL)
		return cli_usage_error(USER_CMD, "'user verify' needs --service (ftp, smtp, pop3 "
				       "or imap)");
	char canon[ACCOUNT_SERVICES_MAX];
	if (account_services_parse(c->service, canon, sizeof canon, &e) < 0 ||
	    strchr(canon, ',') != NULL)
		return cli_usage_error(USER_CMD, "--service '%s' is not one of ftp, smtp, pop3, imap",
				       c->service);
	/* Only FTP has anonymous logins (ftp/ftpd_anon.h). */
	struct account_anon anon;
	bool have_anon = false;
	if (strcmp(canon, "ftp") == 0 && c->cfg != NULL && cfg_has_section(c->cfg, canon)) {
		if (ftpd_anon_configure(c->cfg, canon, &anon, &e) < 0)
			return cli_error(USER_CMD, CLI_USAGE, "%s", e.msg);
		have_anon = true;
	}
	char pw[ACCOUNT_PASSWORD_MAX + 2];
	int rc = user_read_password(c, false, pw, sizeof pw);
	if (rc != 0)
		return rc;
	struct account_query q = {c->args[0], pw, canon, c->peer ? c->peer : "local",
				  have_anon ? &anon : NULL, NULL};
	struct account_result r;
	rc = account_verify_sync(c->store, &c->policy, &q, NULL, account_now_ms(), &r, &e);
	account_wipe(pw, sizeof pw);
	if (rc < 0)
		return cli_error(USER_CMD, CLI_FAIL, "%s", e.msg);
	if (r.status != ACCOUNT_OK)
		return refused(&r, &q);
	const struct account *a = &r.acct;
	if (a->cls == ACCOUNT_ANON) {
		printf("ok: anonymous, read-only root %s%s%s\n", a->home,
		       a->upload[0] ? ", upload directory " : "", a->upload);
		return CLI_OK;
	}
	printf("ok: %s account %s, rights %s, home %s", account_class_name(a->cls), a->name,
	       account_rights_name(a->rights), a->home);
	if (r.via_app_password)
		printf(", with app password '%s'", r.app_label);
	printf("\n");
	return CLI_OK;
}
