#include "core/log.h"
#include "core/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

enum target { TARGET_STDERR, TARGET_SYSLOG, TARGET_NONE };

static enum target log_target = TARGET_STDERR;
static int log_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int log_open(const char *target, const char *ident, ik_err *e)
{
	if (target == NULL || strcmp(target, "stderr") == 0) {
		log_target = TARGET_STDERR;
	} else if (strcmp(target, "syslog") == 0) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_target = TARGET_SYSLOG;
	} else if (strcmp(target, "none") == 0) {
		log_target = TARGET_NONE;
	} else {
		return ik_err_set(e, "unknown log target '%s': use stderr, syslog or none", target);
	}
	return 0;
}

void log_set_level(int level) { log_level = level; }
int log_get_level(void) { return log_level; }

int log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	if (strcmp(name, "warn") == 0)
		return LOG_WARNING;
	return -1;
}

void log_event(int level, const char *event, const char *fmt, ...)
{
	if (level <= LOG_ERR)
		metrics_error();
	if (level > log_level || log_target == TARGET_NONE)
		return;
	char line[2048];
	size_t n = 0;
	if (log_target == TARGET_STDERR) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		struct tm tm;
		gmtime_r(&tv.tv_sec, &tm);
		n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
		int k = snprintf(line + n, sizeof line - n, ".%03dZ ", (int)(tv.tv_usec / 1000));
		n += (size_t)k;
	}
	int k = snprintf(line + n, sizeof line - n, "level=%s event=%s",
			 level_names[level & 7], event);
	if (k > 0)
		n += (size_t)k;
	if (fmt != NULL && *fmt != '\0' && n + 1 < sizeof line) {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, fmt);
		k = vsnprintf(line + n, sizeof line - n, fmt, ap);
		va_end(ap);
		if (k > 0)
			n += (size_t)k;
	}
	if (n >= sizeof line - 1)
		n = sizeof line - 2;
	if (log_target == TARGET_SYSLOG) {
		line[n] = '\0';
		syslog(level, "%s", line);
	} else {
		line[n++] = '\n';
		/* One write per line, so lines from several processes do not mix. */
		fwrite(line, 1, n, stderr);
		fflush(stderr);
	}
}

const char *log_quote(char *buf, size_t bufsz, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	bool bare = *s != '\0';
	for (const char *p = s; *p && bare; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
			bare = false;
	}
	size_t n = 0;
	if (bufsz < 8) {
		if (bufsz)
			buf[0] = '\0';
		return buf;
	}
	size_t room = bufsz - 5;	/* for quotes, "..." and NUL */
	if (!bare)
		buf[n++] = '"';
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[4];
		size_t elen = 1;
		esc[0] = (char)c;
		if (!bare && (c == '"' || c == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)c;
			elen = 2;
		} else if (c < ' ' || c == 0x7f) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			elen = 4;
		}
		if (n + elen > room) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(buf + n, esc, elen);
		n += elen;
	}
	if (!bare)
		buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}
