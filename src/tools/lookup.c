/* inetkit lookup: host names, reverse lookups, services and protocols.
 * The lookups themselves are net/lookup's; this file reads the command line
 * and prints the result as aligned text (colour on a terminal) or JSON
 * (RFC 8259, keys documented in docs/inetkit-lookup.1). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/cli.h"
#include "lib/json.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "core/term.h"
#include "net/lookup.h"
#include "commands.h"

#define CMD "lookup"
#define DEFAULT_TIMEOUT_MS 5000
#define JSON_MAX (1u << 20)

static const char usage_text[] =
	"Usage: inetkit lookup host NAME [-4|-6] [--timeout SECONDS] [--json]\n"
	"       inetkit lookup addr IP [--timeout SECONDS] [--json]\n"
	"       inetkit lookup service NAME|PORT [--proto tcp|udp] [--json]\n"
	"       inetkit lookup proto NAME|NUMBER [--json]\n"
	"       inetkit lookup hostname [--timeout SECONDS] [--json]\n"
	"\n"
	"Look up names and numbers the way programs on this host see them\n"
	"(/etc/hosts and DNS as nsswitch.conf says, /etc/services, /etc/protocols).\n"
	"\n"
	"  host NAME          every IPv4 and IPv6 address of NAME, its canonical name\n"
	"  addr IP            the name of an IPv4 or IPv6 address (reverse lookup)\n"
	"  service NAME|PORT  a service's port, protocols and aliases, and the port's\n"
	"                     range: well-known 0-1023, registered 1024-49151,\n"
	"                     dynamic 49152-65535\n"
	"  proto NAME|NUMBER  an IP protocol's name, number and aliases\n"
	"  hostname           this host's name and its fully qualified name\n"
	"\n"
	"Options:\n"
	"  -4, -6             host: IPv4 or IPv6 addresses only\n"
	"  --proto tcp|udp    service: look in one protocol only (default: both)\n"
	"  --timeout SECONDS  give up after this long (default 5; 0.5 and 500ms work)\n"
	"  --json             one JSON object on stdout\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit status: 0 found, 1 the lookup failed (timeout, resolver unavailable),\n"
	"2 bad input or no such name. See 'inetkit help lookup'.\n";

enum { OPT_FAMILY = 1u << 0, OPT_PROTO = 1u << 1 };

struct opts {
	const struct verb *verb;
	const char *arg;
	int family;
	int timeout_ms;
	const char *proto;
	bool json;
};

struct verb {
	const char *name;
	const char *arg_name;	/* NULL: takes no argument */
	unsigned opts;		/* the verb-specific options it accepts */
	bool negative_args;	/* "-5" is an argument (a bad port), not an option */
	int (*run)(const struct opts *o);
};

/* ---- output helpers ------------------------------------------------------ */

struct out {
	struct term_colors c;
	int width;		/* of the label column */
};

static void out_init(struct out *o, int width)
{
	term_colors_for(stdout, &o->c);
	o->width = width;
}

static void row(const struct out *o, const char *label, const char *color,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void row(const struct out *o, const char *label, const char *color,
		const char *fmt, ...)
{
	printf("%s%-*s%s  %s", o->c.bold, o->width, label, o->c.reset, color);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("%s\n", o->c.reset);
}

/* One JSON object for stdout: json_start opens it, json_emit closes and
 * prints it. */
struct jout {
	struct sbuf sb;
	struct json j;
};

static struct json *json_start(struct jout *o)
{
	sbuf_init(&o->sb, JSON_MAX);
	json_init(&o->j, &o->sb);
	json_obj_begin(&o->j);
	return &o->j;
}

static int json_emit(struct jout *o)
{
	json_obj_end(&o->j);
	int rc = CLI_OK;
	if (json_status(&o->j) < 0)
		rc = cli_error(CMD, CLI_FAIL, "the JSON output is larger than %u bytes", JSON_MAX);
	else
		printf("%s\n", sbuf_cstr(&o->sb));
	sbuf_free(&o->sb);
	return rc;
}

static void json_aliases(struct json *j, char aliases[][LOOKUP_NAME_MAX], size_t n)
{
	json_key(j, "aliases");
	json_arr_begin(j);
	for (size_t i = 0; i < n; i++)
		json_str(j, aliases[i]);
	json_arr_end(j);
}

static void join_aliases(char *buf, size_t bufsz, char aliases[][LOOKUP_NAME_MAX], size_t n)
{
	buf[0] = '\0';
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		int k = str_fmt(buf + len, bufsz - len, "%s%s", i ? ", " : "", aliases[i]);
		if (k < 0)
			return;
		len += (size_t)k;
	}
}

static const char *family_name(int family)
{
	return family == AF_INET ? "ipv4" : "ipv6";
}

/* Exit code for a failed lookup: what the user typed was wrong or does not
 * exist (2), or the lookup could not be done (1). */
static int lookup_failed(enum lookup_status st, const ik_err *e)
{
	int code = st == LOOKUP_BAD_INPUT || st == LOOKUP_NOT_FOUND ? CLI_USAGE : CLI_FAIL;
	return cli_error(CMD, code, "%s", e->msg);
}

static void warn_truncated(bool truncated, const char *what)
{
	if (truncated)
		fprintf(stderr, "inetkit %s: warning: %s\n", CMD, what);
}

/* ---- verbs --------------------------------------------------------------- */

static int run_host(const struct opts *o)
{
	static struct lookup_host_result r;
	ik_err e = {{0}};
	enum lookup_status st = lookup_host(o->arg, o->family, o->timeout_ms, &r, &e);
	if (st != LOOKUP_OK)
		return lookup_failed(st, &e);
	warn_truncated(r.truncated, "more addresses than inetkit shows; only the first ones are listed");
	if (o->json) {
		struct jout jo;
		struct json *j = json_start(&jo);
		json_kv_str(j, "query", o->arg);
		json_kv_str(j, "canonical_name", r.canonical[0] ? r.canonical : NULL);
		json_key(j, "addresses");
		json_arr_begin(j);
		for (size_t i = 0; i < r.count; i++) {
			json_obj_begin(j);
			json_kv_str(j, "address", r.addrs[i].text);
			json_kv_str(j, "family", family_name(r.addrs[i].family));
			json_obj_end(j);
		}
		json_arr_end(j);
		return json_emit(&jo);
	}
	struct out out;
	out_init(&out, 9);
	row(&out, "name", "", "%s", o->arg);
	row(&out, "canonical", r.canonical[0] ? "" : out.c.dim, "%s",
	    r.canonical[0] ? r.canonical : "-");
	for (size_t i = 0; i < r.count; i++)
		row(&out, family_name(r.addrs[i].family), out.c.green, "%s", r.addrs[i].text);
	return CLI_OK;
}

static int run_addr(const struct opts *o)
{
	struct lookup_reverse_result r;
	ik_err e = {{0}};
	enum lookup_status st = lookup_reverse(o->arg, o->timeout_ms, &r, &e);
	if (st != LOOKUP_OK)
		return lookup_failed(st, &e);
	if (o->json) {
		struct jout jo;
		struct json *j = json_start(&jo);
		json_kv_str(j, "query", o->arg);
		json_kv_str(j, "address", r.addr.text);
		json_kv_str(j, "family", family_name(r.addr.family));
		json_kv_str(j, "name", r.name);
		return json_emit(&jo);
	}
	struct out out;
	out_init(&out, 7);
	row(&out, "address", "", "%s", r.addr.text);
	row(&out, "name", out.c.green, "%s", r.name);
	return CLI_OK;
}

static int run_service(const struct opts *o)
{
	static struct lookup_service_result r;
	ik_err e = {{0}};
	enum lookup_status st = lookup_service(o->arg, o->proto, o->timeout_ms, &r, &e);
	if (st != LOOKUP_OK)
		return lookup_failed(st, &e);
	uint16_t first, last;
	enum lookup_port_range range = lookup_port_range(r.port);
	lookup_port_range_bounds(range, &first, &last);
	for (size_t i = 0; i < r.count; i++)
		warn_truncated(r.entries[i].truncated, "some aliases were too many or too long to show");
	if (o->json) {
		struct jout jo;
		struct json *j = json_start(&jo);
		json_kv_str(j, "query", o->arg);
		json_kv_uint(j, "port", r.port);
		json_kv_str(j, "range", lookup_port_range_name(r.port));
		json_kv_uint(j, "range_first", first);
		json_kv_uint(j, "range_last", last);
		json_key(j, "services");
		json_arr_begin(j);
		for (size_t i = 0; i < r.count; i++) {
			struct lookup_service_entry *s = &r.entries[i];
			json_obj_begin(j);
			json_kv_str(j, "name", s->name);
			json_kv_uint(j, "port", s->port);
			json_kv_str(j, "protocol", s->proto);
			json_aliases(j, s->aliases, s->alias_count);
			json_obj_end(j);
		}
		json_arr_end(j);
		return json_emit(&jo);
	}
	/* The label column holds "65535/tcp" at most. */
	struct out out;
	out_init(&out, 9);
	row(&out, "port", "", "%u", r.port);
	row(&out, "range", out.c.cyan, "%s (%u-%u)", lookup_port_range_name(r.port), first, last);
	if (r.count == 0)
		row(&out, "service", out.c.dim, "none in /etc/services");
	for (size_t i = 0; i < r.count; i++) {
		struct lookup_service_entry *s = &r.entries[i];
		char label[32], aliases[1024];
		str_fmt(label, sizeof label, "%u/%s", s->port, s->proto);
		join_aliases(aliases, sizeof aliases, s->aliases, s->alias_count);
		printf("%s%-*s%s  %s%s%s%s%s\n", out.c.bold, out.width, label, out.c.reset,
		       out.c.green, s->name, out.c.reset,
		       s->alias_count ? "  aliases: " : "", aliases);
	}
	return CLI_OK;
}

static int run_proto(const struct opts *o)
{
	static struct lookup_proto_result r;
	ik_err e = {{0}};
	enum lookup_status st = lookup_proto(o->arg, o->timeout_ms, &r, &e);
	if (st != LOOKUP_OK)
		return lookup_failed(st, &e);
	warn_truncated(r.truncated, "some aliases were too many or too long to show");
	if (o->json) {
		struct jout jo;
		struct json *j = json_start(&jo);
		json_kv_str(j, "query", o->arg);
		json_kv_str(j, "name", r.name);
		json_kv_int(j, "number", r.number);
		json_aliases(j, r.aliases, r.alias_count);
		return json_emit(&jo);
	}
	char aliases[1024];
	join_aliases(aliases, sizeof aliases, r.aliases, r.alias_count);
	struct out out;
	out_init(&out, 7);
	row(&out, "name", out.c.green, "%s", r.name);
	row(&out, "number", "", "%d", r.number);
	row(&out, "aliases", r.alias_count ? "" : out.c.dim, "%s", r.alias_count ? aliases : "-");
	return CLI_OK;
}

static int run_hostname(const struct opts *o)
{
	static struct lookup_hostname_result r;
	ik_err e = {{0}};
	enum lookup_status st = lookup_hostname(o->timeout_ms, &r, &e);
	if (st != LOOKUP_OK)	/* our own name unknown: not the user's input */
		return cli_error(CMD, CLI_FAIL, "%s", e.msg);
	const char *dot = strchr(r.fqdn, '.');
	const char *domain = dot != NULL && dot[1] != '\0' ? dot + 1 : NULL;
	if (o->json) {
		struct jout jo;
		struct json *j = json_start(&jo);
		json_kv_str(j, "hostname", r.hostname);
		json_kv_str(j, "fqdn", r.fqdn);
		json_kv_str(j, "domain", domain);
		return json_emit(&jo);
	}
	struct out out;
	out_init(&out, 8);
	row(&out, "hostname", out.c.green, "%s", r.hostname);
	row(&out, "fqdn", "", "%s", r.fqdn);
	row(&out, "domain", domain ? "" : out.c.dim, "%s", domain ? domain : "-");
	return CLI_OK;
}

/* ---- command line -------------------------------------------------------- */

static const struct verb verbs[] = {
	{"host", "NAME", OPT_FAMILY, false, run_host},
	{"addr", "IP", 0, false, run_addr},
	{"service", "NAME|PORT", OPT_PROTO, true, run_service},
	{"proto", "NAME|NUMBER", 0, true, run_proto},
	{"hostname", NULL, 0, false, run_hostname},
};

#define N_VERBS (sizeof verbs / sizeof verbs[0])

static bool is_negative_number(const char *s)
{
	if (s[0] != '-' || s[1] == '\0')
		return false;
	for (s++; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The value of "--name VALUE" or "--name=VALUE" at argv[*i], or NULL if
 * argv[*i] is not that option. *missing is set when the value is absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int unknown_option(const struct verb *v, const char *a)
{
	const char *names[3] = {"--json", "--timeout", (v->opts & OPT_PROTO) ? "--proto" : NULL};
	return cli_unknown(CMD, a, CLI_NAMES(names), "unknown option '%s' for 'lookup %s'", a,
			   v->name);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	const struct verb *v = o->verb;
	bool options_done = false;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool missing = false;
		const char *val;
		if (options_done || a[0] != '-' || a[1] == '\0' ||
		    (v->negative_args && is_negative_number(a))) {
			if (v->arg_name == NULL || o->arg != NULL)
				return cli_usage_error(CMD, "unexpected argument '%s'", a);
			o->arg = a;
		} else if (strcmp(a, "--") == 0) {
			options_done = true;
		} else if (strcmp(a, "--json") == 0) {
			o->json = true;
		} else if ((val = opt_value(argc, argv, &i, "--timeout", &missing)) != NULL) {
			ik_err e = {{0}};
			if (lookup_parse_timeout(val, &o->timeout_ms, &e) < 0)
				return cli_error(CMD, CLI_USAGE, "%s", e.msg);
		} else if ((v->opts & OPT_PROTO) &&
			   (val = opt_value(argc, argv, &i, "--proto", &missing)) != NULL) {
			ik_err e = {{0}};
			if ((o->proto = lookup_parse_proto_filter(val, &e)) == NULL)
				return cli_error(CMD, CLI_USAGE, "%s", e.msg);
		} else if ((v->opts & OPT_FAMILY) && (strcmp(a, "-4") == 0 || strcmp(a, "-6") == 0)) {
			int family = a[1] == '4' ? AF_INET : AF_INET6;
			if (o->family != AF_UNSPEC && o->family != family)
				return cli_usage_error(CMD, "-4 and -6 together: give one, or neither for both");
			o->family = family;
		} else if (missing) {
			return cli_usage_error(CMD, "option %s needs a value", a);
		} else {
			return unknown_option(v, a);
		}
	}
	if (v->arg_name != NULL && o->arg == NULL)
		return cli_usage_error(CMD, "missing %s: inetkit lookup %s %s", v->arg_name,
				       v->name, v->arg_name);
	return CLI_OK;
}

int cmd_lookup(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return cli_help(usage_text);
	if (argc < 2 || argv[1][0] == '-')
		return cli_usage_error(CMD, "say what to look up: host, addr, service, proto or hostname");
	struct opts o = {.family = AF_UNSPEC, .timeout_ms = DEFAULT_TIMEOUT_MS};
	for (size_t i = 0; i < N_VERBS; i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			o.verb = &verbs[i];
	if (o.verb == NULL)
		return cli_unknown(CMD, argv[1], CLI_NAMES(verbs), "unknown lookup '%s': use host, "
				   "addr, service, proto or hostname", argv[1]);
	int rc = parse_args(argc, argv, &o);
	if (rc != CLI_OK)
		return rc;
	return o.verb->run(&o);
}
