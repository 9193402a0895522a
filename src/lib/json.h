/* Compact JSON writer into an sbuf (RFC 8259).
 *
 * Commas are placed by the writer, so callers only say what comes next:
 *   json_obj_begin(&j); json_kv_str(&j, "address", "::1"); json_obj_end(&j);
 * Strings are escaped; bytes that are not valid UTF-8 are written as
 * U+FFFD so the output is always valid JSON. */
#ifndef INETKIT_LIB_JSON_H
#define INETKIT_LIB_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/sbuf.h"

#define JSON_MAX_DEPTH 32

struct json {
	struct sbuf *out;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* nothing written yet at this depth */
	bool after_key;
	bool failed;			/* an append failed (buffer limit) */
};

void json_init(struct json *j, struct sbuf *out);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Already-formatted JSON (a number written by the caller, say). */
void json_raw(struct json *j, const char *text);

void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_uint(struct json *j, const char *key, uint64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);
void json_kv_null(struct json *j, const char *key);

/* 0, or -1 if any write failed. */
int json_status(const struct json *j);

#endif
