/* One line per event, key=value, to stderr or syslog.
 *
 *   log_event(LOG_INFO, "listen", "addr=%s proto=tcp", text);
 * writes
 *   2026-11-22T01:45:49.123Z level=info event=listen addr=127.0.0.1:2007 proto=tcp
 * Values that may hold spaces or quotes go through log_quote(). Never pass a
 * password or a message body. */
#ifndef INETKIT_CORE_LOG_H
#define INETKIT_CORE_LOG_H

#include <stddef.h>
#include <syslog.h>

#include "lib/error.h"

/* Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG. */

/* target: "stderr" (default), "syslog", or "none". ident names the program
 * in syslog. Returns 0, or -1 with e set for an unknown target. */
int log_open(const char *target, const char *ident, ik_err *e);
void log_set_level(int level);
int log_get_level(void);
/* Parse "error", "warning", "notice", "info", "debug". -1 if unknown. */
int log_level_parse(const char *name);

void log_event(int level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Write s into buf as a log value: bare if it has no space, quote, '=' or
 * control byte, else double-quoted with \" \\ and \xNN escapes. Truncated
 * (with "...") to fit. Returns buf. */
const char *log_quote(char *buf, size_t bufsz, const char *s);

#endif
