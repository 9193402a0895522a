#include "core/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "lib/sbuf.h"
#include "lib/str.h"

struct cfg_entry {
	char *section, *key, *value;
	int line;
	bool used;
};

struct cfg_section {
	char *name;
	int line;
	bool used;
};

struct cfg_default {
	char *sec, *key, *value;
	const char *desc;	/* static text of the getter's caller, or NULL */
};

struct cfg {
	char *path;
	struct cfg_entry *entries;
	size_t n, cap;
	struct cfg_section *sections;
	size_t nsec, capsec;
	/* items of lists handed out by cfg_get_list */
	char **lists;
	size_t nlists;
	/* parse state */
	int line;
	bool line_too_long;
	ik_err *err;
	bool failed;
	/* cfg_record_defaults */
	bool recording;
	struct cfg_default *defs;
	size_t ndefs;
};

struct reader {
	FILE *f;
	const char *text;	/* or a string */
	size_t pos;
	struct cfg *c;
};

static int add_section(struct cfg *c, const char *name);

/* Sections are noted here rather than in the key handler, so that an empty
 * section (a service enabled with all defaults) still counts. */
static void note_section(struct cfg *c, const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != '[')
		return;
	const char *end = strchr(line, ']');
	if (end == NULL)
		return;	/* inih reports the syntax error */
	char name[128];
	size_t n = (size_t)(end - line - 1);
	if (n >= sizeof name)
		n = sizeof name - 1;
	memcpy(name, line + 1, n);
	name[n] = '\0';
	add_section(c, str_trim(name));
}

/* inih asks for one line at a time; counting them here gives each key its
 * line number (the packaged inih is built without INI_HANDLER_LINENO). */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	if (r->c->line_too_long)
		return NULL;
	char *got;
	if (r->f != NULL) {
		got = fgets(str, num, r->f);
	} else {
		if (r->text[r->pos] == '\0')
			return NULL;
		const char *nl = strchr(r->text + r->pos, '\n');
		size_t len = nl ? (size_t)(nl - r->text - r->pos) + 1 : strlen(r->text + r->pos);
		if (len > (size_t)num - 1)
			len = (size_t)num - 1;
		memcpy(str, r->text + r->pos, len);
		str[len] = '\0';
		r->pos += len;
		got = str;
	}
	if (got == NULL)
		return NULL;
	r->c->line++;
	size_t len = strlen(str);
	bool at_end = r->f ? feof(r->f) : r->text[r->pos] == '\0';
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !at_end) {
		r->c->line_too_long = true;
		return NULL;
	}
	note_section(r->c, str);
	return str;
}

static struct cfg_section *find_section(const struct cfg *c, const char *name)
{
	for (size_t i = 0; i < c->nsec; i++)
		if (strcmp(c->sections[i].name, name) == 0)
			return &c->sections[i];
	return NULL;
}

static struct cfg_entry *find_entry(const struct cfg *c, const char *sec, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].section, sec) == 0 && strcmp(c->entries[i].key, key) == 0)
			return &c->entries[i];
	return NULL;
}

static int fail(struct cfg *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct cfg *c, const char *fmt, ...)
{
	if (c->failed)
		return 0;
	c->failed = true;
	char msg[IK_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ik_err_set(c->err, "%s:%d: %s", c->path, c->line, msg);
	return 0;
}

static int add_section(struct cfg *c, const char *name)
{
	if (find_section(c, name) != NULL)
		return fail(c, "section [%s] appears twice; merge the two", name);
	if (c->nsec == c->capsec) {
		size_t cap = c->capsec ? c->capsec * 2 : 8;
		void *p = realloc(c->sections, cap * sizeof *c->sections);
		if (p == NULL)
			return fail(c, "out of memory");
		c->sections = p;
		c->capsec = cap;
	}
	c->sections[c->nsec].name = strdup(name);
	c->sections[c->nsec].line = c->line;
	c->sections[c->nsec].used = false;
	if (c->sections[c->nsec].name == NULL)
		return fail(c, "out of memory");
	c->nsec++;
	return 1;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct cfg *c = user;
	if (c->failed)
		return 0;
	if (section[0] == '\0')
		return fail(c, "key '%s' is outside any [section]", name);
	if (name == NULL)
		return 1;
	if (find_entry(c, section, name) != NULL)
		return fail(c, "[%s] key '%s' is set twice", section, name);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		void *p = realloc(c->entries, cap * sizeof *c->entries);
		if (p == NULL)
			return fail(c, "out of memory");
		c->entries = p;
		c->cap = cap;
	}
	struct cfg_entry *en = &c->entries[c->n];
	en->section = strdup(section);
	en->key = strdup(name);
	en->value = strdup(value ? value : "");
	en->line = c->line;
	en->used = false;
	if (!en->section || !en->key || !en->value) {
		free(en->section);
		free(en->key);
		free(en->value);
		return fail(c, "out of memory");
	}
	c->n++;
	return 1;
}

static struct cfg *parse(const char *name, struct reader *r, ik_err *e)
{
	struct cfg *c = calloc(1, sizeof *c);
	if (c == NULL) {
		ik_err_set(e, "out of memory");
		return NULL;
	}
	c->path = strdup(name);
	c->err = e;
	r->c = c;
	int rc = ini_parse_stream(read_line, r, on_pair, c);
	if (c->line_too_long && !c->failed) {
		fail(c, "line longer than %d bytes; shorten it", CFG_MAX_LINE);
	} else if (rc > 0 && !c->failed) {
		c->line = rc;
		fail(c, "syntax error: expected [section], key = value, or a ; comment");
	}
	if (c->failed || c->path == NULL) {
		cfg_free(c);
		return NULL;
	}
	c->err = NULL;
	return c;
}

struct cfg *cfg_load(const char *path, ik_err *e)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		ik_err_errno(e, errno, "cannot read config file %s", path);
		return NULL;
	}
	struct reader r = {.f = f};
	struct cfg *c = parse(path, &r, e);
	fclose(f);
	return c;
}

struct cfg *cfg_load_string(const char *name, const char *text, ik_err *e)
{
	struct reader r = {.text = text};
	return parse(name, &r, e);
}

void cfg_free(struct cfg *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->entries[i].section);
		free(c->entries[i].key);
		free(c->entries[i].value);
	}
	for (size_t i = 0; i < c->nsec; i++)
		free(c->sections[i].name);
	for (size_t i = 0; i < c->nlists; i++)
		free(c->lists[i]);
	free(c->lists);
	for (size_t i = 0; i < c->ndefs; i++) {
		free(c->defs[i].sec);
		free(c->defs[i].key);
		free(c->defs[i].value);
	}
	free(c->defs);
	free(c->entries);
	free(c->sections);
	free(c->path);
	free(c);
}

const char *cfg_path(const struct cfg *c) { return c->path; }

bool cfg_has_section(const struct cfg *c, const char *section)
{
	return find_section(c, section) != NULL;
}

size_t cfg_section_count(const struct cfg *c) { return c->nsec; }
const char *cfg_section_name(const struct cfg *c, size_t i) { return c->sections[i].name; }

void cfg_section_seen(struct cfg *c, const char *section)
{
	struct cfg_section *s = find_section(c, section);
	if (s != NULL)
		s->used = true;
}

int cfg_line(const struct cfg *c, const char *sec, const char *key)
{
	struct cfg_entry *en = find_entry(c, sec, key);
	return en ? en->line : 0;
}

int cfg_error(const struct cfg *c, const char *sec, const char *key, ik_err *e,
	      const char *fmt, ...)
{
	char msg[IK_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int line = cfg_line(c, sec, key);
	if (line > 0)
		return ik_err_set(e, "%s:%d: [%s] %s: %s", c->path, line, sec, key, msg);
	return ik_err_set(e, "%s: [%s] %s: %s", c->path, sec, key, msg);
}

void cfg_record_defaults(struct cfg *c) { c->recording = true; }

/* Out of memory just leaves a key out of the listing. */
static void record(struct cfg *c, const char *sec, const char *key, const char *desc,
		   const char *value)
{
	if (!c->recording)
		return;
	for (size_t i = 0; i < c->ndefs; i++) {
		if (strcmp(c->defs[i].sec, sec) == 0 && strcmp(c->defs[i].key, key) == 0) {
			if (c->defs[i].desc == NULL)
				c->defs[i].desc = desc;
			return;
		}
	}
	struct cfg_default *more = realloc(c->defs, (c->ndefs + 1) * sizeof *more);
	if (more == NULL)
		return;
	c->defs = more;
	struct cfg_default *d = &c->defs[c->ndefs];
	d->sec = strdup(sec);
	d->key = strdup(key);
	d->value = strdup(value);
	d->desc = desc;
	if (d->sec == NULL || d->key == NULL || d->value == NULL) {
		free(d->sec);
		free(d->key);
		free(d->value);
		return;
	}
	c->ndefs++;
}

int cfg_write_defaults(const struct cfg *c, struct sbuf *out)
{
	for (size_t i = 0; i < c->ndefs; i++) {
		bool first = true;	/* of its section */
		for (size_t k = 0; k < i && first; k++)
			first = strcmp(c->defs[k].sec, c->defs[i].sec) != 0;
		if (!first)
			continue;
		if (sbuf_printf(out, "%s[%s]\n", i > 0 ? "\n" : "", c->defs[i].sec) < 0)
			return -1;
		for (size_t k = i; k < c->ndefs; k++) {
			const struct cfg_default *d = &c->defs[k];
			if (strcmp(d->sec, c->defs[i].sec) != 0)
				continue;
			if (d->desc != NULL &&
			    sbuf_printf(out, "; %.*s\n", CFG_DESC_MAX, d->desc) < 0)
				return -1;
			if (sbuf_printf(out, "%s =%s%s\n", d->key, d->value[0] ? " " : "",
					d->value) < 0)
				return -1;
		}
	}
	return 0;
}

/* n in the largest unit that divides it exactly: 4194304 -> "4M". */
static void record_scaled(struct cfg *c, const char *sec, const char *key, const char *desc,
			  uint64_t n, const uint64_t *mult, const char *const *unit, size_t nunits)
{
	size_t i = nunits - 1;
	while (i > 0 && (n == 0 || n % mult[i] != 0))
		i--;
	char text[32];
	str_fmt(text, sizeof text, "%llu%s", (unsigned long long)(n / mult[i]), unit[i]);
	record(c, sec, key, desc, text);
}

static void record_size(struct cfg *c, const char *sec, const char *key, const char *desc,
			uint64_t n)
{
	static const uint64_t mult[] = {1, 1ULL << 10, 1ULL << 20, 1ULL << 30};
	static const char *const unit[] = {"", "k", "M", "G"};
	record_scaled(c, sec, key, desc, n, mult, unit, 4);
}

static void record_duration(struct cfg *c, const char *sec, const char *key, const char *desc,
			    uint64_t ms)
{
	static const uint64_t mult[] = {1, 1000, 60000, 3600000, 86400000};
	static const char *const unit[] = {"ms", "s", "m", "h", "d"};
	record_scaled(c, sec, key, desc, ms, mult, unit, 5);
}

/* The value of a key, marking key and section as read; NULL if absent. */
static const char *lookup(struct cfg *c, const char *sec, const char *key)
{
	struct cfg_section *s = find_section(c, sec);
	if (s != NULL)
		s->used = true;
	struct cfg_entry *en = find_entry(c, sec, key);
	if (en == NULL)
		return NULL;
	en->used = true;
	return en->value;
}

int cfg_get_str(struct cfg *c, const char *sec, const char *key, const char *desc,
		const char *def, const char **out, ik_err *e)
{
	(void)e;
	const char *v = lookup(c, sec, key);
	*out = v ? v : def;
	if (v == NULL)
		record(c, sec, key, desc, def != NULL ? def : "");
	return 0;
}

int cfg_get_bool(struct cfg *c, const char *sec, const char *key, const char *desc,
		 bool def, bool *out, ik_err *e)
{
	const char *v = lookup(c, sec, key);
	if (v == NULL) {
		*out = def;
		record(c, sec, key, desc, def ? "yes" : "no");
		return 0;
	}
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (str_eq_nocase(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (str_eq_nocase(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return cfg_error(c, sec, key, e, "'%s' is not yes or no", v);
}

int cfg_get_uint(struct cfg *c, const char *sec, const char *key, const char *desc,
		 uint64_t def, uint64_t min, uint64_t max, uint64_t *out, ik_err *e)
{
	const char *v = lookup(c, sec, key);
	if (v == NULL) {
		*out = def;
		char text[24];
		str_fmt(text, sizeof text, "%llu", (unsigned long long)def);
		record(c, sec, key, desc, text);
		return 0;
	}
	uint64_t n;
	if (str_to_u64(v, UINT64_MAX, &n) < 0 || n < min || n > max)
		return cfg_error(c, sec, key, e, "'%s' is not a whole number from %llu to %llu",
				 v, (unsigned long long)min, (unsigned long long)max);
	*out = n;
	return 0;
}

/* A value with units, read by parse; `what` completes "'v' is not ...". */
static int get_parsed(struct cfg *c, const char *sec, const char *key, const char *desc,
		      uint64_t def, int (*parse)(const char *, uint64_t *),
		      void (*show)(struct cfg *, const char *, const char *, const char *, uint64_t),
		      const char *what, uint64_t *out, ik_err *e)
{
	const char *v = lookup(c, sec, key);
	if (v == NULL) {
		*out = def;
		show(c, sec, key, desc, def);
		return 0;
	}
	if (parse(v, out) < 0)
		return cfg_error(c, sec, key, e, "'%s' is not %s", v, what);
	return 0;
}

int cfg_get_size(struct cfg *c, const char *sec, const char *key, const char *desc,
		 uint64_t def, uint64_t *out, ik_err *e)
{
	return get_parsed(c, sec, key, desc, def, str_to_size, record_size,
			  "a size (examples: 512, 64k, 10M, 2G)", out, e);
}

int cfg_get_duration(struct cfg *c, const char *sec, const char *key, const char *desc,
		     uint64_t def_ms, uint64_t *out_ms, ik_err *e)
{
	return get_parsed(c, sec, key, desc, def_ms, str_to_duration_ms, record_duration,
			  "a duration (examples: 30s, 5m, 2h, 250ms)", out_ms, e);
}

int cfg_get_enum(struct cfg *c, const char *sec, const char *key, const char *desc,
		 const char *const *words, int def, int *out, ik_err *e)
{
	const char *v = lookup(c, sec, key);
	if (v == NULL) {
		*out = def;
		record(c, sec, key, desc, words[def]);
		return 0;
	}
	char choices[256] = "";
	size_t used = 0;
	for (int i = 0; words[i] != NULL; i++) {
		if (strcmp(v, words[i]) == 0) {
			*out = i;
			return 0;
		}
		int k = str_fmt(choices + used, sizeof choices - used, "%s%s", i ? ", " : "", words[i]);
		if (k > 0)
			used += (size_t)k;
	}
	return cfg_error(c, sec, key, e, "'%s' is not one of: %s", v, choices);
}

int cfg_get_list(struct cfg *c, const char *sec, const char *key, const char *desc,
		 const char *def, const char **items, size_t *n, ik_err *e)
{
	const char *v = lookup(c, sec, key);
	*n = 0;
	if (v == NULL) {
		v = def;
		record(c, sec, key, desc, def != NULL ? def : "");
	}
	if (v == NULL)
		return 0;
	char *copy = strdup(v);
	void *p = copy ? realloc(c->lists, (c->nlists + 1) * sizeof *c->lists) : NULL;
	if (p == NULL) {
		free(copy);
		return cfg_error(c, sec, key, e, "out of memory");
	}
	c->lists = p;
	c->lists[c->nlists++] = copy;
	for (char *s = copy; *s;) {
		while (*s == ' ' || *s == ',' || *s == '\t')
			*s++ = '\0';
		if (*s == '\0')
			break;
		if (*n >= CFG_MAX_LIST)
			return cfg_error(c, sec, key, e, "more than %d items", CFG_MAX_LIST);
		items[(*n)++] = s;
		while (*s && *s != ' ' && *s != ',' && *s != '\t')
			s++;
	}
	return 0;
}

int cfg_check_unused(const struct cfg *c, ik_err *e)
{
	for (size_t i = 0; i < c->nsec; i++)
		if (!c->sections[i].used)
			return ik_err_set(e, "%s:%d: unknown section [%s]; see inetkit.conf(5) for the sections",
					  c->path, c->sections[i].line, c->sections[i].name);
	for (size_t i = 0; i < c->n; i++)
		if (!c->entries[i].used)
			return ik_err_set(e, "%s:%d: [%s] unknown key '%s'; see inetkit.conf(5) for the keys of [%s]",
					  c->path, c->entries[i].line, c->entries[i].section,
					  c->entries[i].key, c->entries[i].section);
	return 0;
}
