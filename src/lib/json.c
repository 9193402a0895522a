#include "lib/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void json_init(struct json *j, struct sbuf *out)
{
	memset(j, 0, sizeof *j);
	j->out = out;
	j->first[0] = true;
}

static void put(struct json *j, const char *s, size_t n)
{
	if (sbuf_add(j->out, s, n) < 0)
		j->failed = true;
}

/* Called before every value or key: writes the separating comma. */
static void sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
}

static void open(struct json *j, char c)
{
	sep(j);
	put(j, &c, 1);
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->failed = true;
		return;
	}
	j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct json *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	put(j, &c, 1);
}

void json_obj_begin(struct json *j) { open(j, '{'); }
void json_obj_end(struct json *j) { close_(j, '}'); }
void json_arr_begin(struct json *j) { open(j, '['); }
void json_arr_end(struct json *j) { close_(j, ']'); }

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	else if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; c &= 0x1F; }
	else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; c &= 0x0F; }
	else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; c &= 0x07; }
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	return len;
}

static void put_escaped(struct json *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	put(j, "\"", 1);
	size_t run = 0;	/* bytes copied as they are, flushed in one go */
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			run++;
			i++;
			continue;
		}
		size_t ulen = c >= 0x80 ? utf8_len(p + i, n - i) : 0;
		if (ulen > 0) {
			run += ulen;
			i += ulen;
			continue;
		}
		put(j, (const char *)p + i - run, run);
		run = 0;
		char esc[8];
		size_t elen = 2;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			if (c < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				elen = 6;
			} else {	/* invalid UTF-8 byte */
				memcpy(esc, "\\ufffd", 6);
				elen = 6;
			}
		}
		put(j, esc, elen);
		i++;
	}
	put(j, (const char *)p + n - run, run);
	put(j, "\"", 1);
}

void json_key(struct json *j, const char *key)
{
	sep(j);
	put_escaped(j, key, strlen(key));
	put(j, ":", 1);
	j->after_key = true;
}

void json_strn(struct json *j, const char *s, size_t n)
{
	sep(j);
	put_escaped(j, s, n);
}

void json_str(struct json *j, const char *s)
{
	if (s == NULL) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_raw(struct json *j, const char *text)
{
	sep(j);
	put(j, text, strlen(text));
}

void json_uint(struct json *j, uint64_t v)
{
	char tmp[24];
	char *e = tmp + sizeof tmp, *p = e;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sep(j);
	put(j, p, (size_t)(e - p));
}

void json_int(struct json *j, int64_t v)
{
	if (v >= 0) {
		json_uint(j, (uint64_t)v);
		return;
	}
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
	sep(j);
	put(j, tmp, (size_t)n);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void json_null(struct json *j)
{
	sep(j);
	put(j, "null", 4);
}

void json_kv_str(struct json *j, const char *k, const char *s) { json_key(j, k); json_str(j, s); }
void json_kv_int(struct json *j, const char *k, int64_t v) { json_key(j, k); json_int(j, v); }
void json_kv_uint(struct json *j, const char *k, uint64_t v) { json_key(j, k); json_uint(j, v); }
void json_kv_bool(struct json *j, const char *k, bool v) { json_key(j, k); json_bool(j, v); }
void json_kv_null(struct json *j, const char *k) { json_key(j, k); json_null(j); }

int json_status(const struct json *j)
{
	return j->failed ? -1 : 0;
}
