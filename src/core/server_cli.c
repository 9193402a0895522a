/* The standalone servers' command line (core/server_cli.h). No RFC of its
 * own. */
#include <getopt.h>
#include <string.h>

#include "core/acl.h"
#include "core/cli.h"
#include "core/server_cli.h"
#include "core/workers.h"
#include "lib/str.h"

#define OPT_BASE 256

/* The sections of the text, and one gathering per list option. */
struct quick {
	const struct server_cli *d;
	struct sbuf sec[3];			/* enum server_cli_sec */
	struct sbuf list[SERVER_CLI_MAX_OPTS];	/* by option index */
	bool any;				/* a quick option was given */
};

/* A value written into the generated INI text must survive it whole. */
static int ini_value(const struct server_cli *d, const char *opt, const char *v)
{
	bool comma_ok = d->values & SERVER_CLI_COMMA_OK, space_ok = d->values & SERVER_CLI_SPACE_OK;
	size_t n = strlen(v);
	if (n > 0 && strpbrk(v, "\r\n;#") == NULL && (comma_ok || strchr(v, ',') == NULL) &&
	    (space_ok ? v[0] != ' ' && v[n - 1] != ' ' : strchr(v, ' ') == NULL))
		return 0;
	return cli_usage_error(d->cmd, "%s '%s': empty, or holds a character (line break, ';', "
			       "'#'%s, %s) the configuration cannot hold", opt, v,
			       comma_ok ? "" : ", ','", space_ok ? "edge space" : "space");
}

static int quick_add(struct quick *q, enum server_cli_sec sec, const char *opt, const char *key,
		     const char *v)
{
	if (ini_value(q->d, opt, v) != 0)
		return CLI_USAGE;
	q->any = true;
	if (sbuf_printf(&q->sec[sec], "%s = %s\n", key, v) < 0)
		return cli_usage_error(q->d->cmd, "too many options");
	return 0;
}

static int quick_list(struct quick *q, struct sbuf *list, const char *opt, const char *v)
{
	const struct server_cli *d = q->d;
	if (ini_value(d, opt, v) != 0)
		return CLI_USAGE;
	/* With " " between values, a space would split one into two. */
	if (strcmp(d->list_sep, " ") == 0 && strchr(v, ' ') != NULL)
		return cli_usage_error(d->cmd, "%s '%s': one value per option; repeat the option",
				       opt, v);
	q->any = true;
	if (sbuf_printf(list, "%s%s", list->len ? d->list_sep : "", v) < 0)
		return cli_usage_error(d->cmd, "too many %s options", opt);
	return 0;
}

static int one(struct quick *q, const struct server_cli_opt *o, const char *v,
	       struct server_cli_args *a)
{
	const struct server_cli *d = q->d;
	char opt[48];
	str_fmt(opt, sizeof opt, "--%s", o->name);
	switch (o->kind) {
	case SERVER_CLI_CONFIG: a->config = v; return 0;
	case SERVER_CLI_CHECK: a->check = true; return 0;
	case SERVER_CLI_HELP: return -1;
	case SERVER_CLI_WORKERS:
		a->workers_set = true;
		if (str_to_u64(v, WORKERS_MAX, &a->workers) < 0)
			return cli_usage_error(d->cmd, "--workers '%s' must be a number from 0 to %d",
					       v, WORKERS_MAX);
		return 0;
	case SERVER_CLI_ALLOW:
	case SERVER_CLI_DENY: {
		ik_err e;
		q->any = true;
		if (acl_option(&a->acl, d->section, o->kind == SERVER_CLI_ALLOW ? ACL_ALLOW : ACL_DENY,
			       v, &e) < 0)
			return cli_usage_error(d->cmd, "%s", e.msg);
		return 0;
	}
	case SERVER_CLI_KEY: {
		int rc = quick_add(q, o->sec, opt, o->key, v);
		if (rc == 0 && o->also != NULL)
			rc = quick_add(q, o->sec, opt, o->also, o->value);
		return rc;
	}
	case SERVER_CLI_FLAG: return quick_add(q, o->sec, opt, o->key, o->value);
	case SERVER_CLI_LIST: return quick_list(q, &q->list[o - d->opts], opt, v);
	}
	return 0;
}

/* The lists after the other keys of the section, in the table's order. */
static int lists(struct quick *q)
{
	const struct server_cli *d = q->d;
	bool listen = false, no_listen = false;
	for (size_t i = 0; i < d->nopts; i++) {
		const struct server_cli_opt *o = &d->opts[i];
		if (o->kind != SERVER_CLI_LIST || q->list[i].len == 0)
			continue;
		listen |= strcmp(o->key, "listen") == 0;
		no_listen |= o->no_default_listen;
		if (sbuf_printf(&q->sec[SERVER_CLI_OWN], "%s = %s\n", o->key,
				sbuf_cstr(&q->list[i])) < 0)
			return cli_usage_error(d->cmd, "too many options");
	}
	/* Only the other sockets: none of the default listen address. */
	if (!listen && no_listen)
		sbuf_printf(&q->sec[SERVER_CLI_OWN], "listen =\n");
	return 0;
}

static int parse(struct quick *q, int argc, char **argv, struct server_cli_args *a)
{
	const struct server_cli *d = q->d;
	struct option longopts[SERVER_CLI_MAX_OPTS + 1];
	memset(longopts, 0, sizeof longopts);
	for (size_t i = 0; i < d->nopts && i < SERVER_CLI_MAX_OPTS; i++) {
		const struct server_cli_opt *o = &d->opts[i];
		bool flag = o->kind == SERVER_CLI_CHECK || o->kind == SERVER_CLI_HELP ||
			    o->kind == SERVER_CLI_FLAG;
		longopts[i] = (struct option){o->name, flag ? no_argument : required_argument, NULL,
					      o->kind == SERVER_CLI_HELP ? 'h' : OPT_BASE + (int)i};
	}
	struct cli_names names = {d->opts, d->nopts, sizeof d->opts[0]};
	opterr = 0;
	optind = 0;
	int o, rc = 0;
	while (rc == 0 && (o = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (o == 'h')
			rc = -1;
		else if (o == ':')
			rc = cli_usage_error(d->cmd, "option '%s' needs a value", argv[optind - 1]);
		else if (o >= OPT_BASE && (size_t)(o - OPT_BASE) < d->nopts)
			rc = one(q, &d->opts[o - OPT_BASE], optarg, a);
		else
			rc = cli_unknown_option(d->cmd, argv[optind - 1], names);
	}
	if (rc == 0 && optind < argc)
		rc = cli_usage_error(d->cmd, "unexpected argument '%s'", argv[optind]);
	if (rc == 0 && a->config != NULL && q->any)
		rc = cli_usage_error(d->cmd, "--config cannot be combined with the quick options "
				     "(%s, ...); put them in the file's [%s] section",
				     d->quick_names, d->section);
	return rc == 0 ? lists(q) : rc;
}

int server_cli_parse(const struct server_cli *d, int argc, char **argv,
		     struct server_cli_args *a)
{
	*a = (struct server_cli_args){.text = SBUF_INIT(64 * 1024)};
	struct quick q = {.d = d, .sec = {SBUF_INIT(32768), SBUF_INIT(8192), SBUF_INIT(8192)}};
	for (size_t i = 0; i < SERVER_CLI_MAX_OPTS; i++)
		sbuf_init(&q.list[i], 8192);
	int rc = parse(&q, argc, argv, a);
	if (rc == 0)
		sbuf_printf(&a->text, "[serve]\n%s[tls]\n%s[%s]\n%s",
			    sbuf_cstr(&q.sec[SERVER_CLI_SERVE]), sbuf_cstr(&q.sec[SERVER_CLI_TLS]),
			    d->section, sbuf_cstr(&q.sec[SERVER_CLI_OWN]));
	for (size_t i = 0; i < 3; i++)
		sbuf_free(&q.sec[i]);
	for (size_t i = 0; i < SERVER_CLI_MAX_OPTS; i++)
		sbuf_free(&q.list[i]);
	return rc;
}

void server_cli_args_free(struct server_cli_args *a)
{
	acl_free(a->acl);
	a->acl = NULL;
	sbuf_free(&a->text);
}
