/* Password masking for trace output (see mask.h). */
#include <ctype.h>
#include <string.h>

#include "trace/mask.h"

/* The start of word n (0-based) of s, or NULL. */
static char *word(char *s, int n)
{
	char *p = s;
	for (int i = 0;; i++) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return NULL;
		if (i == n)
			return p;
		while (*p != ' ' && *p != '\0')
			p++;
	}
}

static bool word_is(const char *w, const char *verb)
{
	size_t n = strlen(verb);
	return w != NULL && strncasecmp(w, verb, n) == 0 && (w[n] == ' ' || w[n] == '\0');
}

static bool stars(char *at)
{
	if (at == NULL)
		return false;
	size_t room = strlen(at);
	/* "****" always fits: at points into a word of at least one byte
	 * and the line buffer ends at its terminating NUL, so clip to it. */
	const char mask[] = "****";
	size_t n = room < 4 ? room : 4;
	memcpy(at, mask, n);
	at[n] = '\0';
	return true;
}

bool tr_mask_line(char *line)
{
	char *w0 = word(line, 0);
	if (word_is(w0, "PASS"))
		return stars(word(line, 1));
	if (word_is(w0, "AUTH"))
		return stars(word(line, 2));
	if (word_is(w0, "APOP"))
		return stars(word(line, 2));
	char *w1 = word(line, 1);	/* IMAP: TAG VERB ... */
	if (word_is(w1, "LOGIN"))
		return stars(word(line, 3));
	if (word_is(w1, "AUTHENTICATE"))
		return stars(word(line, 3));
	return false;
}

bool tr_mask_starts_sasl(const char *line)
{
	char buf[128];
	size_t n = strlen(line);
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	char *w0 = word(buf, 0), *w1 = word(buf, 1);
	if (word_is(w0, "AUTH"))
		return word(buf, 2) == NULL || word_is(w1, "LOGIN");
	return word_is(w1, "AUTHENTICATE");
}
