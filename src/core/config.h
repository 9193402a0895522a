/* The configuration file: one INI file (inih), read whole at start-up.
 *
 * Typed getters read a key and check its value; a bad value is an error
 * that names file, line, section and key. Each consumer reads every key
 * of its sections, present or not, so after all have read,
 * cfg_check_unused() reports every key nobody asked for as unknown: the
 * getters are the schema, written once. */
#ifndef INETKIT_CORE_CONFIG_H
#define INETKIT_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* Longest line inih reads (its INI_MAX_LINE); longer lines are an error. */
#define CFG_MAX_LINE 199
#define CFG_MAX_LIST 32

struct cfg;

struct cfg *cfg_load(const char *path, ik_err *e);
/* Parse text as if it were the file `name` (tests, built-in defaults). */
struct cfg *cfg_load_string(const char *name, const char *text, ik_err *e);
void cfg_free(struct cfg *c);
/* The file name (or the name given to cfg_load_string). */
const char *cfg_path(const struct cfg *c);

bool cfg_has_section(const struct cfg *c, const char *section);
size_t cfg_section_count(const struct cfg *c);
const char *cfg_section_name(const struct cfg *c, size_t i);
/* Mark a whole section as known (so its keys are not reported). */
void cfg_section_seen(struct cfg *c, const char *section);

struct sbuf;
/* From now on every getter that falls back to its default notes the key,
 * its default (sizes and durations in their largest exact unit) and its
 * description; cfg_write_defaults then writes them as a config file, each
 * key once under a "; description" comment line, grouped by section in the
 * order first read: `inetkit serve --defaults` (like postconf -d). */
void cfg_record_defaults(struct cfg *c);
int cfg_write_defaults(const struct cfg *c, struct sbuf *out);

/* Each returns 0 with *out = the value, or the default when the key is
 * absent; -1 with e set when the value is bad. desc is the key's one-line
 * description for --defaults, in the words of inetkit.conf(5) (at most
 * CFG_DESC_MAX bytes); NULL where the key is read a second time, for
 * another purpose, and described at its main read. */
#define CFG_DESC_MAX 150
int cfg_get_str(struct cfg *c, const char *sec, const char *key, const char *desc,
		const char *def, const char **out, ik_err *e);
int cfg_get_bool(struct cfg *c, const char *sec, const char *key, const char *desc,
		 bool def, bool *out, ik_err *e);
int cfg_get_uint(struct cfg *c, const char *sec, const char *key, const char *desc,
		 uint64_t def, uint64_t min, uint64_t max, uint64_t *out, ik_err *e);
/* "10M", "512k" ... (core/str.h str_to_size). */
int cfg_get_size(struct cfg *c, const char *sec, const char *key, const char *desc,
		 uint64_t def, uint64_t *out, ik_err *e);
/* "30s", "5m", "250ms" ... in milliseconds. */
int cfg_get_duration(struct cfg *c, const char *sec, const char *key, const char *desc,
		     uint64_t def_ms, uint64_t *out_ms, ik_err *e);
/* One of the given words (NULL-terminated list); *out = its index. */
int cfg_get_enum(struct cfg *c, const char *sec, const char *key, const char *desc,
		 const char *const *words, int def, int *out, ik_err *e);
/* A list separated by commas and/or spaces; at most CFG_MAX_LIST items.
 * Items point into storage owned by the cfg. def may be NULL (empty). */
int cfg_get_list(struct cfg *c, const char *sec, const char *key, const char *desc,
		 const char *def, const char **items, size_t *n, ik_err *e);

/* The line a key is on (0 if absent), for errors found later. */
int cfg_line(const struct cfg *c, const char *sec, const char *key);
/* Format "FILE:LINE: [SEC] KEY: " + message into e (LINE omitted if absent). */
int cfg_error(const struct cfg *c, const char *sec, const char *key, ik_err *e,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Error for the first key or section no getter read. */
int cfg_check_unused(const struct cfg *c, ik_err *e);

#endif
