/* The pure parts of lookups: RFC 6335 port ranges and the parsers for
 * ports, protocols and timeouts given on the command line. */
#include "net/lookup.h"

#include <string.h>

#include "lib/str.h"

/* ---- pure parts ---------------------------------------------------------- */

enum lookup_port_range lookup_port_range(uint16_t port)
{
	if (port <= 1023)
		return LOOKUP_RANGE_WELL_KNOWN;
	if (port <= 49151)
		return LOOKUP_RANGE_REGISTERED;
	return LOOKUP_RANGE_DYNAMIC;
}

const char *lookup_port_range_name(uint16_t port)
{
	static const char *const names[] = {"well-known", "registered", "dynamic"};
	return names[lookup_port_range(port)];
}

void lookup_port_range_bounds(enum lookup_port_range range, uint16_t *first,
			      uint16_t *last)
{
	static const uint16_t bounds[][2] = {{0, 1023}, {1024, 49151}, {49152, 65535}};
	*first = bounds[range][0];
	*last = bounds[range][1];
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A number, a negative number, or a name; shared by ports and protocols. */
static enum lookup_arg parse_number_or_name(const char *s, uint64_t max, uint64_t *num,
					    const char *number_what, const char *name_what,
					    const char *db, ik_err *e)
{
	if (*s == '\0') {
		ik_err_set(e, "empty %s: give a name or a number", name_what);
		return LOOKUP_ARG_INVALID;
	}
	if (all_digits(s) || (s[0] == '-' && all_digits(s + 1))) {
		if (s[0] != '-' && str_to_u64(s, max, num) == 0)
			return LOOKUP_ARG_NUMBER;
		ik_err_set(e, "%s %s is out of range 0-%llu", number_what, s,
			   (unsigned long long)max);
		return LOOKUP_ARG_INVALID;
	}
	size_t n = strlen(s);
	if (n >= LOOKUP_NAME_MAX) {
		ik_err_set(e, "%s is %zu bytes long; names in %s are shorter than %d",
			   name_what, n, db, LOOKUP_NAME_MAX);
		return LOOKUP_ARG_INVALID;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == 0x7f || *p == '/' || *p == '#') {
			ik_err_set(e, "invalid %s '%s': names in %s have no spaces, '/' or '#'",
				   name_what, s, db);
			return LOOKUP_ARG_INVALID;
		}
	}
	return LOOKUP_ARG_NAME;
}

enum lookup_arg lookup_parse_port(const char *s, uint16_t *port, ik_err *e)
{
	uint64_t v = 0;
	enum lookup_arg k = parse_number_or_name(s, 65535, &v, "port", "service name",
						 "/etc/services", e);
	if (k == LOOKUP_ARG_NUMBER)
		*port = (uint16_t)v;
	return k;
}

enum lookup_arg lookup_parse_proto(const char *s, uint8_t *number, ik_err *e)
{
	uint64_t v = 0;
	enum lookup_arg k = parse_number_or_name(s, 255, &v, "protocol number",
						 "protocol name", "/etc/protocols", e);
	if (k == LOOKUP_ARG_NUMBER)
		*number = (uint8_t)v;
	return k;
}

const char *lookup_parse_proto_filter(const char *s, ik_err *e)
{
	if (strcmp(s, "tcp") == 0)
		return "tcp";
	if (strcmp(s, "udp") == 0)
		return "udp";
	ik_err_set(e, "unknown protocol '%s' for --proto: use tcp or udp", s);
	return NULL;
}

int lookup_parse_timeout(const char *s, int *ms, ik_err *e)
{
	uint64_t v = 0;
	int ok = -1;
	const char *dot = strchr(s, '.');
	if (dot == NULL) {
		ok = str_to_duration_ms(s, &v);
	} else if (dot > s && dot - s <= 7 && strlen(dot + 1) >= 1 && strlen(dot + 1) <= 3) {
		/* Decimal seconds: "0.5" is 500 ms; finer than 1 ms is refused. */
		char whole[8], frac[4] = "000";
		memcpy(whole, s, (size_t)(dot - s));
		whole[dot - s] = '\0';
		memcpy(frac, dot + 1, strlen(dot + 1));
		uint64_t w, f;
		if (str_to_u64(whole, 9999999, &w) == 0 && str_to_u64(frac, 999, &f) == 0) {
			v = w * 1000 + f;
			ok = 0;
		}
	}
	if (ok < 0 || v == 0 || v > LOOKUP_TIMEOUT_MAX_MS)
		return ik_err_set(e, "invalid timeout '%s': give seconds from 0.001 to %d, e.g. 5, 0.5 or 500ms",
				  s, LOOKUP_TIMEOUT_MAX_MS / 1000);
	*ms = (int)v;
	return 0;
}
