/* libFuzzer harness for what `inetkit mail` reads from POP3 and IMAP
 * servers beyond the client core's own reply engine (fuzz_client_reply):
 * the POP3 status rule and UIDL/LIST lines (mail/mail_pop3.c), the IMAP
 * untagged-line parser (UIDVALIDITY, CAPABILITY, SEARCH, LIST, FETCH with
 * UID, FLAGS, RFC822.SIZE and literals; mail/mail_imap.c), the IMAP flags
 * to Maildir letters and folder names to Maildir++ directories. The input
 * is lines as a hostile server sends them; a line starting with ')' goes
 * on from a literal.
 *
 * Checked, beyond "no crash, no sanitizer report": a UIDL token is
 * printable ASCII; Maildir flags are only D F R S T, sorted, each once; a
 * local folder name holds no '/', no "..", and starts with '.'. */
#include <stdlib.h>
#include <string.h>

#include "mail/mail_fetch.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(struct mail_session *s, struct client_reply *r, const char *line,
		     size_t len)
{
	int st = pop3_status(line, len);
	CHECK(st >= -1 && st <= 1);
	uint64_t n;
	char tok[72];
	if (pop3_parse_pair(line, len, &n, tok, sizeof tok) == 0) {
		CHECK(n > 0 && tok[0] != '\0');
		for (const char *p = tok; *p; p++)
			CHECK(*p >= 0x21 && *p <= 0x7e);
	}
	r->segment = len > 0 && line[0] == ')';
	ik_err e;
	if (imap_client_line(s, r, line, len, &e) < 0)
		CHECK(e.msg[0] != '\0');
	CHECK(s->fetch_text.len <= 1024 * 1024);
	size_t fl = strlen(s->fetch_flags);
	for (size_t i = 0; i < fl; i++) {
		CHECK(strchr("DFRST", s->fetch_flags[i]) != NULL);
		CHECK(i == 0 || s->fetch_flags[i - 1] < s->fetch_flags[i]);
	}
	char z[2048];
	size_t zl = len < sizeof z - 1 ? len : sizeof z - 1;
	memcpy(z, line, zl);
	z[zl] = '\0';
	char local[512];
	if (imap_folder_local(z, '.', local, sizeof local) == 0 && local[0]) {
		CHECK(local[0] == '.');
		CHECK(strchr(local, '/') == NULL);
		CHECK(strstr(local, "..") == NULL);
	}
	char letters[8];
	imap_flags_to_maildir(z, letters, sizeof letters);
	for (size_t i = 0; letters[i]; i++)
		CHECK(i == 0 || letters[i - 1] < letters[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_session s;
	memset(&s, 0, sizeof s);
	sbuf_init(&s.fetch_text, 1024 * 1024);
	s.list = g_ptr_array_new_with_free_func(g_free);
	struct client_reply r;
	client_reply_init(&r);
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		one_line(&s, &r, p, len);
		p = nl ? nl + 1 : end;
	}
	CHECK(s.list->len <= size);
	client_reply_free(&r);
	g_ptr_array_free(s.list, TRUE);
	sbuf_free(&s.fetch_text);
	return 0;
}
