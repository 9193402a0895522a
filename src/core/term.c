#include "core/term.h"

#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

bool term_is_tty(FILE *f)
{
	return isatty(fileno(f)) == 1;
}

bool term_use_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	if (nc != NULL && *nc != '\0')
		return false;
	const char *t = getenv("TERM");
	if (t != NULL && strcmp(t, "dumb") == 0)
		return false;
	return term_is_tty(f);
}

void term_colors_for(FILE *f, struct term_colors *c)
{
	if (term_use_color(f)) {
		*c = (struct term_colors){"\033[1m", "\033[2m", "\033[31m",
			"\033[32m", "\033[33m", "\033[34m", "\033[36m", "\033[0m"};
	} else {
		*c = (struct term_colors){"", "", "", "", "", "", "", ""};
	}
}

int term_read_secret(const char *prompt, char *buf, size_t bufsz)
{
	if (bufsz == 0)
		return -1;
	bool tty = isatty(STDIN_FILENO) == 1;
	struct termios old, quiet;
	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else {
			tty = false;
		}
	}
	char *r = fgets(buf, (int)bufsz, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (r == NULL)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

char term_safe_char(unsigned char c)
{
	return (char)(c < 0x20 || c == 0x7f ? '?' : c);
}

void term_put_safe(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(term_safe_char(*p), f);
}

char *term_safe_copy(char *dst, size_t dstsz, const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && n + 1 < dstsz; p++)
		dst[n++] = term_safe_char(*p);
	dst[n] = '\0';
	return dst;
}
