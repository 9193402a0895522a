/* --dialogue: each TCP stream put back in order and shown as the lines
 * its two sides said, "C:" for the client and "S:" for the server, as the
 * protocol RFCs write their examples (RFC 5321 D, RFC 959). Credentials
 * are masked (mask.h); SASL exchanges are masked line by line until the
 * server stops asking (334 / "+"). FTP data connections are not shown
 * line by line: their size is, under the control connection's number. */
#include <stdlib.h>
#include <string.h>

#include "core/term.h"
#include "lib/str.h"
#include "trace/mask.h"
#include "trace/trace.h"

#define DLG_LINE_MAX 512

struct tr_dlg {
	char buf[2][DLG_LINE_MAX];
	size_t len[2];
	bool cut[2];
	uint32_t next[2];
	bool have_next[2];
	bool secret;		/* client lines are SASL credentials */
	bool announced;
};

void tr_dlg_free(struct tr_conn *c)
{
	free(c->dlg);
	c->dlg = NULL;
}

static void emit(struct tr_ctx *x, struct tr_conn *c, int dir)
{
	struct tr_dlg *g = c->dlg;
	char line[DLG_LINE_MAX + 8];
	size_t n = g->len[dir];
	if (n > 0 && g->buf[dir][n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++)
		line[i] = term_safe_char((unsigned char)g->buf[dir][i]);
	line[n] = '\0';
	g->len[dir] = 0;
	if (dir == TR_C2S) {
		if (g->secret)
			str_copy(line, sizeof line, "****");
		else if (tr_mask_starts_sasl(line))
			g->secret = true;
		tr_mask_line(line);
	} else if (g->secret && !str_has_prefix(line, "334") && !str_has_prefix(line, "+ ") &&
		   strcmp(line, "+") != 0) {
		g->secret = false;
	}
	fprintf(x->out, "#%u %s%s:%s %s%s\n", c->id, dir == TR_C2S ? x->col.green : x->col.blue,
		dir == TR_C2S ? "C" : "S", x->col.reset, line, g->cut[dir] ? " [line cut]" : "");
	g->cut[dir] = false;
}

static void add_bytes(struct tr_ctx *x, struct tr_conn *c, int dir, const uint8_t *p, size_t n)
{
	struct tr_dlg *g = c->dlg;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			emit(x, c, dir);
			continue;
		}
		if (g->len[dir] < DLG_LINE_MAX)
			g->buf[dir][g->len[dir]++] = (char)p[i];
		else
			g->cut[dir] = true;
	}
}

static bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

void tr_view_dialogue(struct tr_ctx *x, const struct tr_packet *pk, const struct tr_ev *ev,
		      const uint8_t *data)
{
	struct tr_conn *c = ev->conn;
	if (c == NULL || c->proto != 6)
		return;
	if (c->dlg == NULL) {
		c->dlg = calloc(1, sizeof *c->dlg);
		if (c->dlg == NULL)
			return;
	}
	struct tr_dlg *g = c->dlg;
	int d = ev->dir;
	if (!g->announced && c->data_of == 0) {
		char cl[64], sv[64];
		tr_fmt_endpoint(c->version, c->addr[0], c->port[0], cl, sizeof cl);
		tr_fmt_endpoint(c->version, c->addr[1], c->port[1], sv, sizeof sv);
		fprintf(x->out, "%s#%u %s → %s%s\n", x->col.bold, c->id, cl, sv, x->col.reset);
		g->announced = true;
	}
	const struct tr_tcp *t = &pk->tcp;
	uint32_t seq = t->seq;
	if (t->flags & TR_TCP_SYN) {
		g->next[d] = seq + 1;
		g->have_next[d] = true;
		return;
	}
	if (c->data_of != 0 || ev->len == 0)
		return;
	if (!g->have_next[d]) {
		g->next[d] = seq;
		g->have_next[d] = true;
	}
	const uint8_t *p = data + pk->app_off;
	size_t n = pk->app_len;
	if (seq_lt(seq, g->next[d])) {
		uint32_t skip = g->next[d] - seq;
		if (skip >= ev->len)
			return;	/* all of it already shown */
		seq += skip;
		p += skip < n ? skip : n;
		n = skip < n ? n - skip : 0;
	} else if (seq != g->next[d]) {
		fprintf(x->out, "#%u [%u bytes missing from the capture]\n", c->id, seq - g->next[d]);
		g->len[d] = 0;
	}
	add_bytes(x, c, d, p, n);
	size_t wire = ev->len - (seq - t->seq);
	if (n < wire) {
		fprintf(x->out, "#%u [%zu bytes cut by the capture]\n", c->id, wire - n);
		g->len[d] = 0;
	}
	g->next[d] = seq + (uint32_t)wire;
}

void tr_view_dialogue_end(struct tr_ctx *x, struct tr_conn *c)
{
	if (c->proto != 6)
		return;
	if (c->data_of != 0) {
		fprintf(x->out, "#%u [FTP data connection #%u: %llu bytes client→server, %llu bytes "
			"server→client]\n", c->data_of, c->id, (unsigned long long)c->bytes[0],
			(unsigned long long)c->bytes[1]);
		return;
	}
	if (c->dlg == NULL)
		return;
	for (int d = 0; d < 2; d++)
		if (c->dlg->len[d] > 0)
			emit(x, c, d);
	fprintf(x->out, "#%u %s\n", c->id,
		c->rst ? "[reset]" : c->ended ? "[closed]" : "[still open at the end of the capture]");
}
