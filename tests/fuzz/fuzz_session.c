/* libFuzzer harness for the session line splitter (core/session_line.c).
 * The first byte picks the line limit, the second the line ending mode
 * and how the rest arrives (chunk size), as the network would deliver it.
 * Checked: no line over the limit, none holding LF or (in a LINE) NUL,
 * consumed bytes within the input and the window, progress always made,
 * and the unconsumed input never above max + 1 bytes (bounded memory). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct session_linescan ls = {
		.max = 1 + data[0] % 64,
		.eol = (data[1] & 1) ? SESSION_EOL_CRLF : SESSION_EOL_LF,
	};
	size_t chunk = 1 + (size_t)(data[1] >> 1) % 40;
	data += 2;
	size -= 2;
	char buf[64 + 2 + 40 + 8];
	size_t have = 0, pos = 0;
	while (pos < size) {
		size_t take = size - pos < chunk ? size - pos : chunk;
		CHECK(have + take <= sizeof buf);
		memcpy(buf + have, data + pos, take);
		have += take;
		pos += take;
		for (int rounds = 0;; rounds++) {
			CHECK(rounds < 1000);
			size_t len = 12345, used = 12345;
			enum session_line_status st = session_line_scan(&ls, buf, have, &len, &used);
			CHECK(used <= have && used <= ls.max + 2);
			switch (st) {
			case SESSION_LINE_OK:
				CHECK(len <= ls.max);
				CHECK(memchr(buf, '\n', len) == NULL);
				CHECK(memchr(buf, '\0', len) == NULL);
				CHECK(buf[used - 1] == '\n');
				if (ls.eol == SESSION_EOL_CRLF)
					CHECK(used == len + 2 && buf[len] == '\r');
				else
					CHECK(used == len + 1 || (used == len + 2 && buf[len] == '\r'));
				break;
			case SESSION_LINE_NUL:
			case SESSION_LINE_BARE_LF:
				CHECK(used > 0 && buf[used - 1] == '\n');
				break;
			case SESSION_LINE_TOO_LONG:
				CHECK(used > 0);
				break;
			case SESSION_LINE_MORE:
				break;
			}
			memmove(buf, buf + used, have - used);
			have -= used;
			if (st == SESSION_LINE_MORE && used == 0)
				break;
		}
		/* What waits for its line end never exceeds the limit. */
		CHECK(have <= ls.max + 1);
	}
	return 0;
}
