/* The per-packet pipeline of `inetkit trace`: decode, track the
 * connection, hand the packet to the chosen view, free what has ended. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "trace/trace.h"

void tr_fmt_addr(uint8_t version, const uint8_t *addr, char *out, size_t outsz)
{
	if (inet_ntop(version == 4 ? AF_INET : AF_INET6, addr, out, (socklen_t)outsz) == NULL)
		str_copy(out, outsz, "?");
}

void tr_fmt_endpoint(uint8_t version, const uint8_t *addr, uint16_t port, char *out, size_t outsz)
{
	char a[INET6_ADDRSTRLEN];
	tr_fmt_addr(version, addr, a, sizeof a);
	if (version == 4)
		str_fmt(out, outsz, "%s:%u", a, port);
	else
		str_fmt(out, outsz, "[%s]:%u", a, port);
}

void tr_hexdump(struct sbuf *b, const char *prefix, const uint8_t *p, size_t n, size_t max)
{
	size_t shown = n < max ? n : max;
	for (size_t row = 0; row < shown; row += 16) {
		sbuf_printf(b, "%s%04zx  ", prefix, row);
		for (size_t i = 0; i < 16; i++) {
			if (row + i < shown)
				sbuf_printf(b, "%02x ", p[row + i]);
			else
				sbuf_addstr(b, "   ");
			if (i == 7)
				sbuf_addch(b, ' ');
		}
		sbuf_addstr(b, " |");
		for (size_t i = 0; i < 16 && row + i < shown; i++) {
			uint8_t c = p[row + i];
			sbuf_addch(b, c >= 0x20 && c < 0x7f ? (char)c : '.');
		}
		sbuf_addstr(b, "|\n");
	}
	if (shown < n)
		sbuf_printf(b, "%s... %zu more bytes\n", prefix, n - shown);
}

/* Six comma-separated numbers h1,h2,h3,h4,p1,p2 (RFC 959 PORT, 227):
 * the port p1*256+p2, or 0. */
static uint16_t port_of_six(const char *s)
{
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			continue;
		unsigned v[6], k = 0;
		const char *q = s;
		while (k < 6) {
			unsigned n = 0, digits = 0;
			while (*q >= '0' && *q <= '9' && digits < 4)
				n = n * 10 + (unsigned)(*q++ - '0'), digits++;
			if (digits == 0 || n > 255)
				break;
			v[k++] = n;
			if (k < 6 && *q++ != ',')
				break;
		}
		if (k == 6)
			return (uint16_t)(v[4] << 8 | v[5]);
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s == '\0')
			break;
	}
	return 0;
}

/* The port between the last two '|' of "(|||port|)" (RFC 2428 EPSV) or
 * "|af|addr|port|" (EPRT), or 0. */
static uint16_t port_of_bars(const char *s)
{
	const char *end = strrchr(s, '|');
	if (end == NULL)
		return 0;
	const char *p = end;
	while (p > s && p[-1] != '|')
		p--;
	if (p == s || p == end)
		return 0;
	unsigned n = 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || n > 65535)
			return 0;
		n = n * 10 + (unsigned)(*p - '0');
	}
	return n > 0 && n <= 65535 ? (uint16_t)n : 0;
}

/* An FTP control line that announces a data connection's port: the next
 * connection to it is linked to this one. */
static void ftp_expect(struct tr_ctx *x, const struct tr_packet *pk, const struct tr_ev *ev)
{
	if (ev->conn == NULL || ev->conn->proto != 6 || pk->app.line[0] == '\0')
		return;
	const char *l = pk->app.line;
	uint16_t port = 0;
	if (ev->dir == TR_S2C && str_has_prefix(l, "227 "))
		port = port_of_six(l + 4);
	else if (ev->dir == TR_S2C && str_has_prefix(l, "229 "))
		port = port_of_bars(l);
	else if (ev->dir == TR_C2S && str_has_prefix(l, "PORT "))
		port = port_of_six(l + 5);
	else if (ev->dir == TR_C2S && str_has_prefix(l, "EPRT "))
		port = port_of_bars(l);
	if (port != 0)
		tr_conv_expect_data(x->cv, port, ev->conn->id);
}

static void free_conn_views(struct tr_conn *c, void *arg)
{
	(void)arg;
	tr_dlg_free(c);
}

void tr_ctx_packet(struct tr_ctx *x, double ts, const uint8_t *data, size_t caplen, size_t wirelen,
		   int dlt)
{
	struct tr_packet pk;
	tr_decode(dlt, data, caplen, wirelen, &pk);
	if (!x->have_t0) {
		x->t0 = ts;
		x->have_t0 = true;
	}
	double rel = ts - x->t0;
	x->n++;
	if (x->cv == NULL)
		x->cv = tr_conv_new();
	struct tr_ev ev;
	if (x->cv != NULL)
		tr_conv_packet(x->cv, &pk, rel, &ev);
	else
		memset(&ev, 0, sizeof ev);
	ftp_expect(x, &pk, &ev);
	switch (x->view) {
	case TR_VIEW_CONV:
		tr_view_conv(x, &pk, &ev, rel);
		if (ev.ends)
			tr_view_conv_summary(x, ev.conn);
		break;
	case TR_VIEW_LAYERS: tr_view_layers(x, &pk, &ev, data, rel); break;
	case TR_VIEW_JSON: tr_view_json(x, &pk, &ev, ts, rel); break;
	case TR_VIEW_DIALOGUE:
		tr_view_dialogue(x, &pk, &ev, data);
		if (ev.ends)
			tr_view_dialogue_end(x, ev.conn);
		break;
	default: break;
	}
	if (x->svg != NULL && ev.conn != NULL)
		tr_svg_event(x->svg, &pk, &ev, rel);
	if (x->cv != NULL)
		tr_conv_reap(x->cv, free_conn_views, NULL);
}

static void summary_cb(struct tr_conn *c, void *arg)
{
	tr_view_conv_summary(arg, c);
}

static void dialogue_cb(struct tr_conn *c, void *arg)
{
	tr_view_dialogue_end(arg, c);
}

int tr_ctx_finish(struct tr_ctx *x, const char *svg_path)
{
	if (x->cv != NULL && x->view == TR_VIEW_CONV)
		tr_conv_each_open(x->cv, summary_cb, x);
	if (x->cv != NULL && x->view == TR_VIEW_DIALOGUE)
		tr_conv_each_open(x->cv, dialogue_cb, x);
	fflush(x->out);
	if (x->svg != NULL && svg_path != NULL) {
		char err[256];
		if (tr_svg_write(x->svg, svg_path, err, sizeof err) < 0) {
			fprintf(stderr, "inetkit trace: %s\n", err);
			return -1;
		}
	}
	return 0;
}

void tr_ctx_free(struct tr_ctx *x)
{
	tr_conv_free(x->cv, free_conn_views, NULL);
	x->cv = NULL;
	tr_svg_free(x->svg);
	x->svg = NULL;
	sbuf_free(&x->line);
}
