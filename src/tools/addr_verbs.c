/* The verbs of `inetkit addr`: split, contains, summarize, aton, ntoa.
 * Option parsing and the verb table are in addr.c; each function here gets
 * the parsed options and its operands. Output goes through ctx->out. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "lib/json.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "tools/addr_tool.h"

static void out_json(struct addr_ctx *ctx, struct sbuf *sb)
{
	sbuf_addch(sb, '\n');
	addr_out_add(&ctx->out, sb->data, sb->len);
	sbuf_reset(sb);
}

static void json_addr(struct json *j, const char *key, const struct ik_addr *a)
{
	char t[ADDR_TEXT_MAX];
	addr_format(a, t, sizeof t);
	json_kv_str(j, key, t);
}

static void json_u128(struct json *j, const char *key, ik_u128 v)
{
	char t[ADDR_NUMBER_MAX];
	addr_format_u128(v, t, sizeof t);
	json_key(j, key);
	json_raw(j, t);
}

/* ---- split ---------------------------------------------------------- */

static void split_print(struct addr_ctx *ctx, struct sbuf *sb, const struct ik_net *n)
{
	char t[ADDR_TEXT_MAX];
	addr_format_net(n, t, sizeof t);
	if (!ctx->json) {
		addr_out_str(&ctx->out, t);
		addr_out_add(&ctx->out, "\n", 1);
		return;
	}
	struct addr_net_info ni;
	struct json j;
	addr_net_info(n, &ni);
	json_init(&j, sb);
	json_obj_begin(&j);
	json_kv_str(&j, "cidr", t);
	json_addr(&j, "network", &ni.network);
	json_kv_uint(&j, "prefix", n->prefix);
	json_addr(&j, "first_host", &ni.first_host);
	json_addr(&j, "last_host", &ni.last_host);
	if (ni.has_broadcast)
		json_addr(&j, "broadcast", &ni.last);
	else
		json_kv_null(&j, "broadcast");
	json_u128(&j, "hosts", ni.hosts);
	json_obj_end(&j);
	out_json(ctx, sb);
}

int addr_verb_split(struct addr_ctx *ctx, int argc, char **argv)
{
	ik_err e;
	struct ik_net n;
	if (argc != 1)
		return cli_usage_error(ADDR_CMD, "split takes one network, got %d", argc);
	if (ctx->has_prefix == ctx->has_count)
		return cli_usage_error(ADDR_CMD, "split needs exactly one of --prefix N or --count N");
	if (addr_parse(argv[0], strlen(argv[0]), &n, &e) < 0) {
		addr_report(ctx, NULL, argv[0], strlen(argv[0]), e.msg);
		return CLI_USAGE;
	}
	if (n.addr.zone[0] != '\0') {
		addr_report(ctx, NULL, argv[0], strlen(argv[0]), "a zone id has no place in split");
		return CLI_USAGE;
	}
	unsigned bits = addr_bits(&n.addr), newp;
	if (ctx->has_count) {
		unsigned k = 0;
		while (k < 64 && ((uint64_t)1 << k) < ctx->count)
			k++;
		if (n.prefix + k > bits)
			return cli_error(ADDR_CMD, CLI_USAGE, "cannot split /%u into %llu subnets: "
					 "it holds at most 2^%u addresses", n.prefix,
					 (unsigned long long)ctx->count, bits - n.prefix);
		newp = n.prefix + k;
		if (((uint64_t)1 << k) != ctx->count)
			cli_error(ADDR_CMD, CLI_OK, "note: %llu is not a power of two; listing %llu "
				  "subnets of /%u", (unsigned long long)ctx->count,
				  (unsigned long long)((uint64_t)1 << k), newp);
	} else {
		newp = ctx->prefix;
	}
	struct addr_split it;
	if (addr_split_init(&it, &n, newp, &e) < 0) {
		addr_report(ctx, NULL, argv[0], strlen(argv[0]), e.msg);
		return CLI_USAGE;
	}
	unsigned log2 = newp - n.prefix;
	if (log2 > ADDR_SPLIT_MAX_LOG2 && !ctx->force) {
		char count[64] = "";
		if (log2 < 64)
			str_fmt(count, sizeof count, " = %llu", (unsigned long long)1 << log2);
		return cli_error(ADDR_CMD, CLI_USAGE, "'%s' split into /%u gives 2^%u%s subnets, "
				 "more than the limit of 2^%d = %u; use a shorter prefix, or "
				 "--force to list them all", argv[0], newp, log2, count,
				 ADDR_SPLIT_MAX_LOG2, 1u << ADDR_SPLIT_MAX_LOG2);
	}
	struct sbuf sb = SBUF_INIT(4096);
	struct ik_net sub;
	while (addr_split_next(&it, &sub) && ctx->out.err == 0)
		split_print(ctx, &sb, &sub);
	sbuf_free(&sb);
	return CLI_OK;
}

/* ---- contains ------------------------------------------------------- */

struct contains_state {
	struct ik_net net;
	bool any_out;
	struct sbuf sb;
};

static void contains_one(struct addr_ctx *ctx, const struct addr_line *line, const char *s,
			 size_t len)
{
	struct contains_state *st = ctx->state;
	struct ik_net a;
	ik_err e;
	if (line != NULL && line->too_long) {
		addr_report(ctx, line, s, len, "longer than the batch line limit of 256 bytes");
		return;
	}
	if (addr_parse(s, len, &a, &e) < 0) {
		addr_report(ctx, line, s, len, e.msg);
		return;
	}
	bool in = addr_net_contains(&st->net, &a);
	if (!in)
		st->any_out = true;
	if (ctx->quiet)
		return;
	char at[ADDR_TEXT_MAX], nt[ADDR_TEXT_MAX];
	if (a.prefix == addr_bits(&a.addr))
		addr_format(&a.addr, at, sizeof at);
	else
		addr_format_net(&a, at, sizeof at);
	addr_format_net(&st->net, nt, sizeof nt);
	if (ctx->json) {
		struct json j;
		json_init(&j, &st->sb);
		json_obj_begin(&j);
		json_kv_str(&j, "address", at);
		json_kv_str(&j, "network", nt);
		json_kv_bool(&j, "contained", in);
		json_obj_end(&j);
		out_json(ctx, &st->sb);
		return;
	}
	char line_text[200];
	const char *why = "";
	if (a.addr.family != st->net.addr.family)
		why = a.addr.family == AF_INET ? " (an IPv4 address, an IPv6 network)"
					       : " (an IPv6 address, an IPv4 network)";
	int k = str_fmt(line_text, sizeof line_text, "%s %s %s%s\n", at,
			in ? "is in" : "is not in", nt, why);
	if (k > 0)
		addr_out_add(&ctx->out, line_text, (size_t)k);
}

static void contains_line(struct addr_ctx *ctx, const struct addr_line *line)
{
	contains_one(ctx, line, line->s, line->len);
}

int addr_verb_contains(struct addr_ctx *ctx, int argc, char **argv)
{
	struct contains_state st = {.sb = SBUF_INIT(4096)};
	ik_err e;
	if (argc < 2)
		return cli_usage_error(ADDR_CMD, "contains needs a network and at least one address");
	if (addr_parse(argv[0], strlen(argv[0]), &st.net, &e) < 0) {
		addr_report(ctx, NULL, argv[0], strlen(argv[0]), e.msg);
		return CLI_USAGE;
	}
	/* Print the network as a network: host bits cleared. */
	struct addr_net_info ni;
	addr_net_info(&st.net, &ni);
	char zone[IF_NAMESIZE];
	memcpy(zone, st.net.addr.zone, sizeof zone);
	st.net.addr = ni.network;
	memcpy(st.net.addr.zone, zone, sizeof zone);
	ctx->state = &st;
	int rc = 0;
	for (int i = 1; i < argc && rc == 0; i++) {
		if (strcmp(argv[i], "-") == 0)
			rc = addr_read_lines(ctx, STDIN_FILENO, contains_line, &e);
		else
			contains_one(ctx, NULL, argv[i], strlen(argv[i]));
	}
	ctx->state = NULL;
	sbuf_free(&st.sb);
	if (rc < 0)
		return cli_error(ADDR_CMD, CLI_FAIL, "%s", e.msg);
	if (ctx->bad)
		return CLI_USAGE;
	return st.any_out ? CLI_FAIL : CLI_OK;
}

/* ---- summarize ------------------------------------------------------ */

struct span_list {
	struct addr_span *v;
	size_t n, cap;
	bool full;
};

static void summarize_one(struct addr_ctx *ctx, const struct addr_line *line, const char *s,
			  size_t len)
{
	struct span_list *l = ctx->state;
	ik_err e;
	struct addr_span sp;
	if (line != NULL && line->too_long) {
		addr_report(ctx, line, s, len, "longer than the batch line limit of 256 bytes");
		return;
	}
	if (addr_parse_span(s, len, &sp, &e) < 0) {
		addr_report(ctx, line, s, len, e.msg);
		return;
	}
	if (l->n == l->cap) {
		if (l->cap >= ADDR_SUMMARIZE_MAX) {
			l->full = true;
			return;
		}
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct addr_span *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL) {
			l->full = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = sp;
}

static void summarize_line(struct addr_ctx *ctx, const struct addr_line *line)
{
	summarize_one(ctx, line, line->s, line->len);
}

int addr_verb_summarize(struct addr_ctx *ctx, int argc, char **argv)
{
	struct span_list l = {0};
	ik_err e;
	int rc = 0;
	if (argc < 1)
		return cli_usage_error(ADDR_CMD, "summarize needs at least one network, address or "
				       "range");
	ctx->state = &l;
	for (int i = 0; i < argc && rc == 0 && !l.full; i++) {
		if (strcmp(argv[i], "-") == 0)
			rc = addr_read_lines(ctx, STDIN_FILENO, summarize_line, &e);
		else
			summarize_one(ctx, NULL, argv[i], strlen(argv[i]));
	}
	ctx->state = NULL;
	if (rc < 0 || l.full) {
		free(l.v);
		if (l.full)
			return cli_error(ADDR_CMD, CLI_USAGE, "more than %u inputs to summarize; "
					 "summarize them in parts", ADDR_SUMMARIZE_MAX);
		return cli_error(ADDR_CMD, CLI_FAIL, "%s", e.msg);
	}
	size_t n = addr_summarize(l.v, l.n);
	struct sbuf sb = SBUF_INIT(4096);
	for (size_t i = 0; i < n; i++) {
		struct addr_cover c;
		struct ik_net net;
		addr_cover_init(&c, &l.v[i]);
		while (addr_cover_next(&c, &net))
			split_print(ctx, &sb, &net);
	}
	sbuf_free(&sb);
	free(l.v);
	return ctx->bad ? CLI_USAGE : CLI_OK;
}

/* ---- aton / ntoa ---------------------------------------------------- */

static void legacy_note(const char *input, unsigned forms, const struct ik_addr *a, char *buf,
			size_t bufsz)
{
	char canon[ADDR_TEXT_MAX];
	addr_format(a, canon, sizeof canon);
	if (forms == 0) {
		str_fmt(buf, bufsz, "%s", "not a legacy form");
		return;
	}
	static const char *const fill[] = {"", "a: one number for all 32 bits",
		"a.b: the last part fills the low 24 bits",
		"a.b.c: the last part fills the low 16 bits"};
	size_t parts = 1;
	for (const char *p = input; *p; p++)
		parts += *p == '.';
	char what[300];
	size_t o = 0;
	what[0] = '\0';
	if ((forms & ADDR_ATON_SHORT) && parts < 4) {
		int k = str_fmt(what, sizeof what, "%s", fill[parts]);
		o = k > 0 ? (size_t)k : 0;
	}
	if (forms & ADDR_ATON_OCTAL) {
		int k = str_fmt(what + o, sizeof what - o, "%sa leading 0 makes a number octal",
				o ? "; " : "");
		o += k > 0 ? (size_t)k : 0;
	}
	if (forms & ADDR_ATON_HEX)
		str_fmt(what + o, sizeof what - o, "%s0x makes a number hexadecimal", o ? "; " : "");
	str_fmt(buf, bufsz, "legacy inet_aton form (%s); ambiguous, as other programs read it "
		"differently or refuse it: write %s", what, canon);
}

static void show_numeric(struct addr_ctx *ctx, const char *input, const struct ik_addr *a,
			 unsigned forms, const char *note)
{
	char t[ADDR_TEXT_MAX], num[ADDR_NUMBER_MAX], hex[ADDR_NUMBER_MAX];
	char bytes[ADDR_BYTES_MAX], py[ADDR_BYTES_MAX];
	addr_format(a, t, sizeof t);
	addr_format_u128(addr_to_u128(a), num, sizeof num);
	addr_format_hex(a, hex, sizeof hex);
	addr_format_bytes(a, bytes, sizeof bytes);
	addr_format_pybytes(a, py, sizeof py);
	if (ctx->json) {
		struct sbuf sb = SBUF_INIT(4096);
		struct json j;
		json_init(&j, &sb);
		json_obj_begin(&j);
		json_kv_str(&j, "input", input);
		json_kv_str(&j, "address", t);
		json_kv_uint(&j, "version", a->family == AF_INET ? 4 : 6);
		json_key(&j, "integer");
		json_raw(&j, num);
		json_kv_str(&j, "hex", hex);
		json_kv_str(&j, "bytes", bytes);
		json_kv_str(&j, "python", py);
		json_kv_bool(&j, "legacy", (forms & ADDR_ATON_LEGACY) != 0);
		json_key(&j, "forms");
		json_arr_begin(&j);
		if (forms & ADDR_ATON_SHORT)
			json_str(&j, "short");
		if (forms & ADDR_ATON_OCTAL)
			json_str(&j, "octal");
		if (forms & ADDR_ATON_HEX)
			json_str(&j, "hex");
		if (forms & ADDR_NUM_BYTES)
			json_str(&j, "bytes");
		if (forms & ADDR_NUM_PYBYTES)
			json_str(&j, "python");
		json_arr_end(&j);
		json_kv_str(&j, "note", note);
		json_obj_end(&j);
		out_json(ctx, &sb);
		sbuf_free(&sb);
		return;
	}
	if (ctx->records++ > 0)
		addr_out_add(&ctx->out, "\n", 1);
	const struct term_colors *c = &ctx->col;
	char line[900];
	int k = str_fmt(line, sizeof line,
			"%sInput:%s    %s\n%sAddress:%s  %s%s%s\n%sInteger:%s  %s\n%sHex:%s      %s\n"
			"%sBytes:%s    %s (network order)\n%sPython:%s   %s\n%sNote:%s     %s\n",
			c->bold, c->reset, input, c->bold, c->reset, c->cyan, t, c->reset,
			c->bold, c->reset, num, c->bold, c->reset, hex, c->bold, c->reset, bytes,
			c->bold, c->reset, py, c->bold, c->reset, note);
	if (k > 0)
		addr_out_add(&ctx->out, line, (size_t)k);
}

int addr_verb_aton(struct addr_ctx *ctx, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage_error(ADDR_CMD, "aton needs at least one address text");
	for (int i = 0; i < argc; i++) {
		struct ik_addr a;
		unsigned forms;
		ik_err e;
		size_t len = strlen(argv[i]);
		if (addr_aton_legacy(argv[i], len, &a, &forms, &e) < 0) {
			addr_report(ctx, NULL, argv[i], len, e.msg);
			continue;
		}
		char note[600];
		legacy_note(argv[i], forms, &a, note, sizeof note);
		show_numeric(ctx, argv[i], &a, forms, note);
	}
	return ctx->bad ? CLI_USAGE : CLI_OK;
}

int addr_verb_ntoa(struct addr_ctx *ctx, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage_error(ADDR_CMD, "ntoa needs at least one number");
	for (int i = 0; i < argc; i++) {
		struct ik_addr a;
		unsigned forms;
		ik_err e;
		size_t len = strlen(argv[i]);
		if (addr_from_ntoa_text(argv[i], len, ctx->family, &a, &forms, &e) < 0) {
			addr_report(ctx, NULL, argv[i], len, e.msg);
			continue;
		}
		const char *note = forms & ADDR_ATON_OCTAL
			? "a leading 0 makes the number octal (as inet_aton reads it)"
			: forms & ADDR_ATON_HEX ? "hexadecimal"
			: forms & ADDR_NUM_BYTES ? "hex bytes in network order"
			: forms & ADDR_NUM_PYBYTES ? "Python bytes in network order" : "decimal";
		show_numeric(ctx, argv[i], &a, forms, note);
	}
	return ctx->bad ? CLI_USAGE : CLI_OK;
}
