/* The relay's pure routing and retry decisions (see smtp_route.h for the
 * RFCs). */
#include <string.h>

#include "lib/str.h"
#include "net/endpoint.h"
#include "smtp/smtp_route.h"

int smtp_route_hostport(const char *s, struct smtp_hostport *out, ik_err *e)
{
	memset(out, 0, sizeof *out);
	out->port = 25;
	const char *host = s;
	size_t hl;
	const char *rest;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return ik_err_set(e, "'%s': a '[' without its ']'", s);
		host = s + 1;
		hl = (size_t)(close - host);
		rest = close + 1;
	} else {
		const char *colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			return ik_err_set(e, "'%s': write an IPv6 address in brackets: [::1]:25", s);
		hl = colon ? (size_t)(colon - s) : strlen(s);
		rest = s + hl;
	}
	if (hl == 0 || hl >= sizeof out->host)
		return ik_err_set(e, "'%s': no host (write [HOST]:PORT)", s);
	memcpy(out->host, host, hl);
	out->host[hl] = '\0';
	if (*rest == ':') {
		if (endpoint_parse_port(rest + 1, &out->port, e) < 0 || out->port == 0)
			return ik_err_set(e, "'%s': the port must be a number from 1 to 65535", s);
	} else if (*rest != '\0') {
		return ik_err_set(e, "'%s': expected [HOST]:PORT", s);
	}
	return 0;
}

const char *smtp_route_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at ? at + 1 : "";
}

int smtp_route_mx_order(struct dns_mx *mx, size_t n, size_t (*rnd)(void *arg, size_t n),
			void *arg)
{
	if (n == 1 && mx[0].host[0] == '\0')
		return 1;
	/* Stable insertion sort by preference (answers are short). */
	for (size_t i = 1; i < n; i++) {
		struct dns_mx m = mx[i];
		size_t j = i;
		while (j > 0 && mx[j - 1].pref > m.pref) {
			mx[j] = mx[j - 1];
			j--;
		}
		mx[j] = m;
	}
	if (rnd == NULL)
		return 0;
	/* Fisher-Yates within each run of equal preference. */
	for (size_t start = 0; start < n;) {
		size_t end = start + 1;
		while (end < n && mx[end].pref == mx[start].pref)
			end++;
		for (size_t k = end - start; k > 1; k--) {
			size_t r = rnd(arg, k) % k;
			struct dns_mx t = mx[start + k - 1];
			mx[start + k - 1] = mx[start + r];
			mx[start + r] = t;
		}
		start = end;
	}
	return 0;
}

uint64_t smtp_route_backoff(unsigned attempts, uint64_t first_ms, uint64_t max_ms)
{
	uint64_t d = first_ms;
	for (unsigned i = 1; i < attempts && d < max_ms; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	return d > max_ms ? max_ms : d;
}

void smtp_route_status(int code, const char *text, char *out, size_t outsz)
{
	int cls = code / 100;
	const char *p = text;
	if (p && (p[0] == '2' || p[0] == '4' || p[0] == '5') && p[0] - '0' == cls && p[1] == '.') {
		size_t i = 2;
		int dots = 1;
		while ((p[i] >= '0' && p[i] <= '9') || (p[i] == '.' && dots < 2)) {
			if (p[i] == '.')
				dots++;
			i++;
		}
		if (dots == 2 && p[i - 1] != '.' && (p[i] == ' ' || p[i] == '\0') && i < outsz &&
		    i < 12) {
			memcpy(out, p, i);
			out[i] = '\0';
			return;
		}
	}
	str_fmt(out, outsz, "%d.0.0", cls >= 2 && cls <= 5 ? cls : 4);
}
