/* Terminal facts for human output: colour only on a terminal (and never
 * when NO_COLOR is set), progress only on a terminal. */
#ifndef INETKIT_CORE_TERM_H
#define INETKIT_CORE_TERM_H

#include <stdbool.h>
#include <stdio.h>

bool term_is_tty(FILE *f);
/* True when f is a terminal, NO_COLOR is unset and TERM is not "dumb". */
bool term_use_color(FILE *f);

/* ANSI sequences, or "" when colour is off for that stream. */
struct term_colors {
	const char *bold, *dim, *red, *green, *yellow, *blue, *cyan, *reset;
};
void term_colors_for(FILE *f, struct term_colors *c);

/* Read a line from the terminal without echo (for passwords). Falls back to
 * a plain line read when stdin is not a terminal. Strips the newline.
 * Returns 0, or -1 on EOF/error. */
int term_read_secret(const char *prompt, char *buf, size_t bufsz);

/* Text from the network or a log (file names, user names, replies) may hold
 * control bytes that would drive the terminal; these show each C0 byte and
 * DEL as '?' and every other byte as it is. */
char term_safe_char(unsigned char c);
/* Writes s to f that way (no newline added). */
void term_put_safe(FILE *f, const char *s);
/* Copies s into dst (size dstsz, > 0) that way, truncating; returns dst. */
char *term_safe_copy(char *dst, size_t dstsz, const char *s);

#endif
