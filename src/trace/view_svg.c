/* --svg FILE: a sequence diagram of each connection (two lifelines,
 * client left, server right; an arrow per segment with its flags, length
 * and meaning; the handshake shaded green and the close yellow), written
 * as SVG 1.1 when the capture ends. Bounded: the first SVG_CONNS
 * connections, the first SVG_EVENTS packets of each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "trace/trace.h"

#define SVG_CONNS 16
#define SVG_EVENTS 200

struct svg_ev {
	double t;
	int dir;
	char text[TR_LABEL_MAX + 48];
	char kind;	/* 'h' handshake, 'c' close, 'r' reset/retransmission, ' ' other */
};

struct svg_conn {
	unsigned id;
	char client[64], server[64];
	size_t n, dropped;
	struct svg_ev ev[SVG_EVENTS];
};

struct tr_svg {
	struct svg_conn *conn[SVG_CONNS];
	size_t n;
};

struct tr_svg *tr_svg_new(void)
{
	return calloc(1, sizeof(struct tr_svg));
}

void tr_svg_free(struct tr_svg *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->conn[i]);
	free(s);
}

void tr_svg_event(struct tr_svg *s, const struct tr_packet *pk, const struct tr_ev *ev, double rel)
{
	const struct tr_conn *c = ev->conn;
	struct svg_conn *sc = NULL;
	for (size_t i = 0; i < s->n; i++)
		if (s->conn[i]->id == c->id)
			sc = s->conn[i];
	if (sc == NULL) {
		if (s->n == SVG_CONNS || (sc = calloc(1, sizeof *sc)) == NULL)
			return;
		sc->id = c->id;
		tr_fmt_endpoint(c->version, c->addr[0], c->port[0], sc->client, sizeof sc->client);
		tr_fmt_endpoint(c->version, c->addr[1], c->port[1], sc->server, sizeof sc->server);
		s->conn[s->n++] = sc;
	}
	if (sc->n == SVG_EVENTS) {
		sc->dropped++;
		return;
	}
	struct svg_ev *e = &sc->ev[sc->n++];
	e->t = rel;
	e->dir = ev->dir;
	if (c->proto == 6) {
		char fl[40];
		tr_tcp_flag_names(pk->tcp.flags, fl, sizeof fl);
		str_fmt(e->text, sizeof e->text, "[%s] seq=%u len=%zu  %s", fl, ev->rel_seq, ev->len, ev->label);
	} else {
		str_fmt(e->text, sizeof e->text, "%s", ev->label);
	}
	const char *l = ev->label;
	e->kind = str_has_prefix(l, "handshake") ? 'h' : strstr(l, "close") ? 'c'
		  : (ev->retrans || strstr(l, "RST")) ? 'r' : ' ';
}

/* Text for an XML text node: the five special characters escaped. */
static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default: fputc(*s, f);
		}
	}
}

#define W 900
#define XL 170
#define XR 730
#define ROW 26
#define HEAD 70

int tr_svg_write(struct tr_svg *s, const char *path, char *err, size_t errsz)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		str_fmt(err, errsz, "cannot write --svg %s: %m", path);
		return -1;
	}
	size_t h = 20;
	for (size_t i = 0; i < s->n; i++)
		h += HEAD + ROW * (s->conn[i]->n + 1) + 30;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%zu\" "
		"font-family=\"monospace\" font-size=\"12\">\n"
		"<defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" "
		"orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#333\"/></marker></defs>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, h);
	size_t y = 20;
	for (size_t i = 0; i < s->n; i++) {
		const struct svg_conn *c = s->conn[i];
		size_t bottom = y + HEAD + ROW * (c->n + 1);
		fprintf(f, "<g id=\"conn%u\">\n<text x=\"10\" y=\"%zu\" font-size=\"14\" font-weight=\"bold\">"
			"connection #%u</text>\n", c->id, y + 14, c->id);
		fprintf(f, "<text x=\"%d\" y=\"%zu\" text-anchor=\"middle\">client ", XL, y + 40);
		xml_text(f, c->client);
		fprintf(f, "</text>\n<text x=\"%d\" y=\"%zu\" text-anchor=\"middle\">server ", XR, y + 40);
		xml_text(f, c->server);
		fprintf(f, "</text>\n");
		for (size_t k = 0; k < c->n; k++) {
			const struct svg_ev *e = &c->ev[k];
			size_t ey = y + HEAD + ROW * k;
			const char *fill = e->kind == 'h' ? "#d8f5d0" : e->kind == 'c' ? "#fbf0c0"
					   : e->kind == 'r' ? "#f8d0d0" : NULL;
			if (fill != NULL)
				fprintf(f, "<rect x=\"%d\" y=\"%zu\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n",
					XL - 100, ey - 4, XR - XL + 200, ROW, fill);
			int x1 = e->dir == TR_C2S ? XL : XR, x2 = e->dir == TR_C2S ? XR : XL;
			fprintf(f, "<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\" stroke=\"#333\" "
				"marker-end=\"url(#arrow)\"/>\n", x1, ey + 4, x2, ey + 16);
			fprintf(f, "<text x=\"%d\" y=\"%zu\" text-anchor=\"middle\">", (XL + XR) / 2, ey + 8);
			xml_text(f, e->text);
			fprintf(f, "</text>\n<text x=\"%d\" y=\"%zu\" fill=\"#666\">%.6f</text>\n", 8,
				ey + 14, e->t);
		}
		fprintf(f, "<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\" stroke=\"#999\"/>\n"
			"<line x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\" stroke=\"#999\"/>\n",
			XL, y + 48, XL, bottom, XR, y + 48, XR, bottom);
		if (c->dropped)
			fprintf(f, "<text x=\"10\" y=\"%zu\">... %zu more packets not drawn</text>\n", bottom + 14,
				c->dropped);
		fprintf(f, "</g>\n");
		y = bottom + 30;
	}
	fprintf(f, "</svg>\n");
	if (fclose(f) != 0) {
		str_fmt(err, errsz, "cannot write --svg %s: %m", path);
		return -1;
	}
	return 0;
}
