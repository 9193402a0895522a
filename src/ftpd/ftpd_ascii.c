/* TYPE A line-end conversion (RFC 959 3.1.1.1), streaming; see ftpd_ascii.h. */
#include <errno.h>
#include <unistd.h>

#include "ftpd/ftpd_ascii.h"

void ftpd_ascii_init(struct ftpd_ascii *st)
{
	st->last_cr = false;
	st->pending_cr = false;
}

size_t ftpd_ascii_to_wire(struct ftpd_ascii *st, const char *in, size_t n, char *out)
{
	size_t w = 0;
	bool last_cr = st->last_cr;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c == '\n' && !last_cr)
			out[w++] = '\r';
		out[w++] = c;
		last_cr = c == '\r';
	}
	st->last_cr = last_cr;
	return w;
}

size_t ftpd_ascii_from_wire(struct ftpd_ascii *st, const char *in, size_t n, char *out)
{
	size_t w = 0;
	bool pending = st->pending_cr;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (pending) {
			pending = false;
			if (c != '\n')
				out[w++] = '\r';	/* a lone CR is data */
		}
		if (c == '\r')
			pending = true;
		else
			out[w++] = c;
	}
	st->pending_cr = pending;
	return w;
}

size_t ftpd_ascii_from_wire_end(struct ftpd_ascii *st, char *out)
{
	if (!st->pending_cr)
		return 0;
	st->pending_cr = false;
	out[0] = '\r';
	return 1;
}

int ftpd_ascii_size(int fd, uint64_t limit, uint64_t *out)
{
	char buf[65536];
	uint64_t total = 0, seen = 0;
	bool last_cr = false;
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		seen += (uint64_t)n;
		if (seen > limit) {
			errno = EFBIG;
			return -1;
		}
		total += (uint64_t)n;
		/* Each LF not already after a CR gains one byte on the wire. */
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' && !last_cr)
				total++;
			last_cr = buf[i] == '\r';
		}
	}
	if (n < 0)
		return -1;
	*out = total;
	return 0;
}
