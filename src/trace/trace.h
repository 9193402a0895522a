/* `inetkit trace` inside: the options, the per-run state every view
 * shares, and one entry point per view. Views write to a FILE (stdout)
 * and keep per-connection state on struct tr_conn. */
#ifndef INETKIT_TRACE_TRACE_H
#define INETKIT_TRACE_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/term.h"
#include "lib/sbuf.h"
#include "trace/conv.h"
#include "trace/decode.h"

enum tr_view { TR_VIEW_CONV, TR_VIEW_LAYERS, TR_VIEW_DIALOGUE, TR_VIEW_JSON, TR_VIEW_NONE };

struct tr_svg;

struct tr_ctx {
	FILE *out;
	enum tr_view view;
	struct term_colors col;
	bool color;
	struct tr_conv *cv;
	double t0;
	bool have_t0;
	uint64_t n;		/* packets seen */
	struct sbuf line;	/* the output of one packet, written at once */
	struct tr_svg *svg;	/* --svg, or NULL */
};

/* ts: seconds since the epoch. */
void tr_ctx_packet(struct tr_ctx *x, double ts, const uint8_t *data, size_t caplen, size_t wirelen,
		   int dlt);
/* End of input: summaries of the connections still open, the SVG. */
int tr_ctx_finish(struct tr_ctx *x, const char *svg_path);
void tr_ctx_free(struct tr_ctx *x);

/* "127.0.0.1:21", "[::1]:21" */
void tr_fmt_endpoint(uint8_t version, const uint8_t *addr, uint16_t port, char *out, size_t outsz);
void tr_fmt_addr(uint8_t version, const uint8_t *addr, char *out, size_t outsz);
/* Hex and ASCII, 16 bytes a row, each row starting with prefix. */
void tr_hexdump(struct sbuf *b, const char *prefix, const uint8_t *p, size_t n, size_t max);

void tr_view_conv(struct tr_ctx *x, const struct tr_packet *pk, const struct tr_ev *ev, double rel);
void tr_view_conv_summary(struct tr_ctx *x, const struct tr_conn *c);
void tr_view_layers(struct tr_ctx *x, const struct tr_packet *pk, const struct tr_ev *ev,
		    const uint8_t *data, double rel);
void tr_view_json(struct tr_ctx *x, const struct tr_packet *pk, const struct tr_ev *ev, double ts,
		  double rel);
void tr_view_dialogue(struct tr_ctx *x, const struct tr_packet *pk, const struct tr_ev *ev,
		      const uint8_t *data);
void tr_view_dialogue_end(struct tr_ctx *x, struct tr_conn *c);
void tr_dlg_free(struct tr_conn *c);

struct tr_svg *tr_svg_new(void);
void tr_svg_event(struct tr_svg *s, const struct tr_packet *pk, const struct tr_ev *ev, double rel);
int tr_svg_write(struct tr_svg *s, const char *path, char *err, size_t errsz);
void tr_svg_free(struct tr_svg *s);

#endif
