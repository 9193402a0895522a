/* The aliases file, in the syntax of sendmail's /etc/aliases (aliases(5)):
 * "name: target, ...", continuation lines starting with white space,
 * '#' comments. Only names and addresses are accepted as targets:
 * programs ("|cmd"), files ("/path") and ":include:" lists are refused
 * when the file is read, so no address ever reaches a shell or a path
 * (the class of OpenSMTPD's CVE-2020-7247). A target "\name" is a local
 * mailbox that is not expanded again (aliases(5)). */
#include "smtp/smtp_alias.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/account.h"
#include "core/fsutil.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "smtp/smtp_parse.h"

#define ALIAS_FILE_MAX (16u << 20)

struct alias_target {
	char *s;		/* lower-case local name, or "local@domain" */
	bool external;		/* has a domain */
	bool final;		/* "\name": not expanded */
};

struct alias {
	char *name;		/* lower case */
	size_t line;
	struct alias_target *t;
	size_t nt, cap;
};

struct smtp_aliases {
	char *file;
	struct alias *v;	/* file order */
	size_t n, cap;
	size_t *sorted;		/* indices into v, by name */
};

static void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

void smtp_aliases_free(struct smtp_aliases *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		for (size_t k = 0; k < a->v[i].nt; k++)
			free(a->v[i].t[k].s);
		free(a->v[i].t);
		free(a->v[i].name);
	}
	free(a->v);
	free(a->sorted);
	free(a->file);
	free(a);
}

/* A name on the left (or a local target): an account name, or any local
 * part a client could send unquoted (RFC 5321 Dot-string, UTF-8 too). */
static bool name_ok(const char *name)
{
	if (account_name_check(name, NULL) == 0)
		return true;
	size_t n = strlen(name);
	if (n == 0 || n > SMTP_LOCAL_MAX)
		return false;
	char buf[SMTP_LOCAL_MAX + 8];
	int len = str_fmt(buf, sizeof buf, "<%s@x>", name);
	struct smtp_path p;
	struct smtp_reply r;
	size_t used;
	return len > 0 &&
	       smtp_path_parse(buf, (size_t)len, SMTP_PARSE_UTF8, false, false, true, &p, &used, &r) == 0 &&
	       used == (size_t)len && !p.local_quoted;
}

struct reader {
	struct smtp_aliases *a;
	const char *file;
	size_t line;
	ik_err *e;
};

static int add_target(struct reader *rd, struct alias *al, char *t)
{
	static const char never[] = "inetkit never runs programs or writes files for an alias";
	/* Also behind the quote or backslash sendmail lets program and file
	 * targets hide behind ("\"|cmd\"", "\\/path"). */
	const char *bare = t;
	while (*bare == '"' || *bare == '\\')
		bare++;
	if (bare[0] == '|')
		return ik_err_set(rd->e, "%s:%zu: alias '%s': program targets (\"|command\") are not "
				  "supported: %s", rd->file, rd->line, al->name, never);
	if (bare[0] == '/')
		return ik_err_set(rd->e, "%s:%zu: alias '%s': file targets (\"/path\") are not "
				  "supported: %s", rd->file, rd->line, al->name, never);
	if (strncasecmp(bare, ":include:", 9) == 0)
		return ik_err_set(rd->e, "%s:%zu: alias '%s': \":include:\" lists are not supported: %s",
				  rd->file, rd->line, al->name, never);
	struct alias_target nt = {NULL, false, false};
	if (t[0] == '\\') {
		t++;
		nt.final = true;
	}
	if (strchr(t, '@') != NULL && !nt.final) {
		char buf[SMTP_PATH_MAX + 1];
		int len = str_fmt(buf, sizeof buf, "<%s>", t);
		struct smtp_path p;
		struct smtp_reply r;
		size_t used = 0;
		str_copy(r.text, sizeof r.text, "longer than 256 octets");
		if (len > 0 && smtp_path_parse(buf, (size_t)len, SMTP_PARSE_UTF8, false, false, true, &p,
					       &used, &r) == 0 && used != (size_t)len)
			str_copy(r.text, sizeof r.text, "text after the address");
		if (len < 0 || used != (size_t)len) {
			/* The parser's reason without its SMTP wording. */
			const char *why = strstr(r.text, "syntax: ");
			return ik_err_set(rd->e, "%s:%zu: alias '%s': '%.80s' is not a valid address: %s",
					  rd->file, rd->line, al->name, t, why != NULL ? why + 8 : r.text);
		}
		nt.s = strdup(p.addr);
		nt.external = true;
	} else {
		ascii_lower(t);
		if (!name_ok(t))
			return ik_err_set(rd->e, "%s:%zu: alias '%s': '%.80s' is not a valid local name "
					  "or address (write a user name, another alias, or "
					  "user@domain)", rd->file, rd->line, al->name, t);
		nt.s = strdup(t);
	}
	if (nt.s == NULL)
		return ik_err_set(rd->e, "out of memory reading %s", rd->file);
	if (al->nt == al->cap) {
		size_t cap = al->cap ? al->cap * 2 : 4;
		struct alias_target *v = realloc(al->t, cap * sizeof *v);
		if (v == NULL) {
			free(nt.s);
			return ik_err_set(rd->e, "out of memory reading %s", rd->file);
		}
		al->t = v;
		al->cap = cap;
	}
	al->t[al->nt++] = nt;
	return 0;
}

static char *trim_blank(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* The comma-separated targets of one line; a comma inside quotes is part
 * of a quoted local part. */
static int add_targets(struct reader *rd, struct alias *al, char *s)
{
	while (*s) {
		char *p = s;
		bool quoted = false;
		for (; *p && (quoted || *p != ','); p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == '\\' && quoted && p[1] != '\0')
				p++;
		}
		bool more = *p == ',';
		*p = '\0';
		char *t = trim_blank(s);
		if (*t != '\0' && add_target(rd, al, t) < 0)
			return -1;
		s = more ? p + 1 : p;
	}
	return 0;
}

static int no_targets(struct reader *rd, const struct alias *al)
{
	return ik_err_set(rd->e, "%s:%zu: alias '%s' has no targets (write 'name: user, "
			  "user@domain, ...')", rd->file, al->line, al->name);
}

static int new_alias(struct reader *rd, char *line, struct alias **cur)
{
	struct smtp_aliases *a = rd->a;
	char *rest = str_split(line, ':');
	if (rest == NULL)
		return ik_err_set(rd->e, "%s:%zu: expected 'name: target, ...'", rd->file, rd->line);
	char *name = trim_blank(line);
	ascii_lower(name);
	if (name[0] == '\0')
		return ik_err_set(rd->e, "%s:%zu: the alias name before ':' is empty", rd->file,
				  rd->line);
	if (!name_ok(name))
		return ik_err_set(rd->e, "%s:%zu: '%.80s' is not a valid alias name (use a local part "
				  "such as info or sales.team)", rd->file, rd->line, name);
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct alias *v = realloc(a->v, cap * sizeof *v);
		if (v == NULL)
			return ik_err_set(rd->e, "out of memory reading %s", rd->file);
		a->v = v;
		a->cap = cap;
	}
	struct alias *al = &a->v[a->n];
	memset(al, 0, sizeof *al);
	al->line = rd->line;
	al->name = strdup(name);
	if (al->name == NULL)
		return ik_err_set(rd->e, "out of memory reading %s", rd->file);
	a->n++;
	*cur = al;
	return add_targets(rd, al, rest);
}

static int by_name(const void *x, const void *y, void *ctx)
{
	const struct smtp_aliases *al = ctx;
	const struct alias *a = &al->v[*(const size_t *)x];
	const struct alias *b = &al->v[*(const size_t *)y];
	int c = strcmp(a->name, b->name);
	return c != 0 ? c : (a->line > b->line) - (a->line < b->line);
}

/* Sort the index; two entries of one name are an error naming both lines
 * (the earliest second definition, so that the message is stable). */
static int index_names(struct reader *rd)
{
	struct smtp_aliases *a = rd->a;
	if (a->n == 0)
		return 0;
	a->sorted = malloc(a->n * sizeof *a->sorted);
	if (a->sorted == NULL)
		return ik_err_set(rd->e, "out of memory reading %s", rd->file);
	for (size_t i = 0; i < a->n; i++)
		a->sorted[i] = i;
	qsort_r(a->sorted, a->n, sizeof *a->sorted, by_name, a);
	const struct alias *dup = NULL, *first = NULL;
	for (size_t i = 1; i < a->n; i++) {
		const struct alias *p = &a->v[a->sorted[i - 1]], *q = &a->v[a->sorted[i]];
		if (strcmp(p->name, q->name) == 0 && (dup == NULL || q->line < dup->line)) {
			dup = q;
			first = p;
		}
	}
	if (dup != NULL)
		return ik_err_set(rd->e, "%s:%zu: alias '%s' is defined twice (first on line %zu): "
				  "merge the two lines", rd->file, dup->line, dup->name, first->line);
	return 0;
}

static int parse_lines(struct reader *rd, const char *text, size_t len)
{
	struct alias *cur = NULL;
	struct sbuf line = SBUF_INIT(len);
	int rc = 0;
	for (size_t i = 0; i < len && rc == 0;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		size_t n = end - i;
		rd->line++;
		if (n > 0 && text[end - 1] == '\r')	/* a file written on Windows */
			n--;
		for (size_t k = 0; k < n; k++) {
			unsigned char c = (unsigned char)text[i + k];
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				rc = ik_err_set(rd->e, "%s:%zu: control character 0x%02x: the aliases "
						"file is text", rd->file, rd->line, c);
				break;
			}
		}
		if (rc < 0)
			break;
		sbuf_reset(&line);
		if (sbuf_add(&line, text + i, n) < 0) {
			rc = ik_err_set(rd->e, "out of memory reading %s", rd->file);
			break;
		}
		i = end + 1;
		char *s = line.data != NULL ? line.data : (char *)"";
		char *body = trim_blank(s);
		if (body[0] == '\0' || body[0] == '#')
			continue;
		if (s[0] == ' ' || s[0] == '\t') {
			if (cur == NULL)
				rc = ik_err_set(rd->e, "%s:%zu: a continuation line (starting with a space) "
						"with no alias before it", rd->file, rd->line);
			else
				rc = add_targets(rd, cur, body);
			continue;
		}
		if (cur != NULL && cur->nt == 0) {
			rc = no_targets(rd, cur);
			break;
		}
		rc = new_alias(rd, body, &cur);
	}
	if (rc == 0 && cur != NULL && cur->nt == 0)
		rc = no_targets(rd, cur);
	sbuf_free(&line);
	return rc;
}

int smtp_aliases_parse(const char *text, size_t len, const char *name, struct smtp_aliases **out,
		       ik_err *e)
{
	*out = NULL;
	struct smtp_aliases *a = calloc(1, sizeof *a);
	if (a == NULL || (a->file = strdup(name)) == NULL) {
		free(a);
		return ik_err_set(e, "out of memory reading %s", name);
	}
	struct reader rd = {a, name, 0, e};
	if (parse_lines(&rd, text, len) < 0 || index_names(&rd) < 0) {
		smtp_aliases_free(a);
		return -1;
	}
	*out = a;
	return 0;
}

int smtp_aliases_load(const char *path, struct smtp_aliases **out, ik_err *e)
{
	*out = NULL;
	struct sbuf b = SBUF_INIT(ALIAS_FILE_MAX);
	if (fs_read_file(path, &b, e) < 0) {
		sbuf_free(&b);
		return ik_err_prefix(e, "aliases");
	}
	int rc = smtp_aliases_parse(sbuf_cstr(&b), b.len, path, out, e);
	sbuf_free(&b);
	return rc;
}

/* The index of name's alias, or -1. name is lower case. */
static long find(const struct smtp_aliases *a, const char *name)
{
	if (a == NULL)
		return -1;
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(a->v[a->sorted[mid]].name, name);
		if (c == 0)
			return (long)a->sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static char *lower_dup(const char *s)
{
	char *d = strdup(s);
	if (d != NULL)
		ascii_lower(d);
	return d;
}

bool smtp_aliases_has(const struct smtp_aliases *a, const char *name)
{
	char *low = lower_dup(name);
	bool has = low != NULL && find(a, low) >= 0;
	free(low);
	return has;
}

struct expansion {
	const struct smtp_aliases *a;
	uint8_t *state;		/* per alias: 0 not met, 1 being expanded, 2 done */
	char **list;
	size_t n;
	ik_err *e;
};

enum { MET_NOT, MET_OPEN, MET_DONE };

static int emit(struct expansion *x, const char *s)
{
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->list[i], s) == 0)
			return 0;
	if (x->n == SMTP_ALIAS_FANOUT)
		return ik_err_set(x->e, "alias expands to more than %d addresses: split it in %s",
				  SMTP_ALIAS_FANOUT, x->a != NULL ? x->a->file : "the aliases file");
	char *d = strdup(s);
	if (d == NULL)
		return ik_err_set(x->e, "out of memory expanding an alias");
	x->list[x->n++] = d;
	return 0;
}

/* Depth-first in file order. An alias met again while it is being
 * expanded is a loop: the name is kept as a local mailbox ("root: root,
 * admin" delivers to root too). One already expanded in this run added
 * its targets then, so it is not walked again: the work is bounded by
 * the file, not by how often lists include each other. */
static int expand(struct expansion *x, size_t idx, unsigned depth)
{
	const struct alias *al = &x->a->v[idx];
	if (depth > SMTP_ALIAS_DEPTH)
		return ik_err_set(x->e, "aliases nested more than %d deep at '%s' (%s:%zu): shorten "
				  "the chain", SMTP_ALIAS_DEPTH, al->name, x->a->file, al->line);
	x->state[idx] = MET_OPEN;
	for (size_t k = 0; k < al->nt; k++) {
		const struct alias_target *t = &al->t[k];
		long sub = t->external || t->final ? -1 : find(x->a, t->s);
		int rc;
		if (sub < 0 || x->state[sub] == MET_OPEN)
			rc = emit(x, t->s);
		else if (x->state[sub] == MET_DONE)
			rc = 0;
		else
			rc = expand(x, (size_t)sub, depth + 1);
		if (rc < 0)
			return -1;
	}
	x->state[idx] = MET_DONE;
	return 0;
}

int smtp_aliases_expand(const struct smtp_aliases *a, const char *name, char ***out, size_t *n,
			ik_err *e)
{
	*out = NULL;
	*n = 0;
	struct expansion x = {a, NULL, NULL, 0, e};
	char *low = lower_dup(name);
	x.list = calloc(SMTP_ALIAS_FANOUT, sizeof *x.list);
	long idx = low != NULL ? find(a, low) : -1;
	if (idx >= 0)
		x.state = calloc(a->n, 1);
	int rc;
	if (low == NULL || x.list == NULL || (idx >= 0 && x.state == NULL))
		rc = ik_err_set(e, "out of memory expanding an alias");
	else if (idx < 0)
		rc = emit(&x, low);
	else
		rc = expand(&x, (size_t)idx, 1);
	free(low);
	free(x.state);
	if (rc < 0) {
		smtp_aliases_list_free(x.list, x.n);
		return -1;
	}
	*out = x.list;
	*n = x.n;
	return 0;
}

void smtp_aliases_list_free(char **list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}
