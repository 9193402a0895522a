/* The POP3 and IMAP reply parsing of `inetkit mail` (mail/mail_pop3.c,
 * mail/mail_imap.c): status lines, UIDL/LIST lines, untagged IMAP lines,
 * flags and folder names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mail/mail_fetch.h"

static void pop3_lines(void **state)
{
	(void)state;
	assert_int_equal(pop3_status("+OK", 3), 1);
	assert_int_equal(pop3_status("+OK 2 messages", 14), 1);
	assert_int_equal(pop3_status("-ERR no", 7), 0);
	assert_int_equal(pop3_status("-ERR", 4), 0);
	assert_int_equal(pop3_status("+OKAY", 5), -1);
	assert_int_equal(pop3_status("* OK", 4), -1);
	assert_int_equal(pop3_status("", 0), -1);
	uint64_t n;
	char tok[72];
	assert_int_equal(pop3_parse_pair("1 000000018f2a", 14, &n, tok, sizeof tok), 0);
	assert_int_equal(n, 1);
	assert_string_equal(tok, "000000018f2a");
	assert_int_equal(pop3_parse_pair("12 345", 6, &n, tok, sizeof tok), 0);
	assert_int_equal(n, 12);
	assert_int_equal(pop3_parse_pair("0 x", 3, &n, tok, sizeof tok), -1);
	assert_int_equal(pop3_parse_pair("x 1", 3, &n, tok, sizeof tok), -1);
	assert_int_equal(pop3_parse_pair("1", 1, &n, tok, sizeof tok), -1);
	assert_int_equal(pop3_parse_pair("1 ", 2, &n, tok, sizeof tok), -1);
	assert_int_equal(pop3_parse_pair("1 a\x01b", 5, &n, tok, sizeof tok), -1);
	assert_int_equal(pop3_parse_pair("99999999999999999999999 a", 25, &n, tok, sizeof tok), -1);
	char small[4];
	assert_int_equal(pop3_parse_pair("1 abcdef", 8, &n, small, sizeof small), -1);
}

static int feed(struct mail_session *s, struct client_reply *r, const char *line)
{
	ik_err e;
	r->segment = line[0] == ')';
	return imap_client_line(s, r, line, strlen(line), &e);
}

static void imap_lines(void **state)
{
	(void)state;
	struct mail_session s;
	memset(&s, 0, sizeof s);
	sbuf_init(&s.fetch_text, 65536);
	struct client_reply r;
	client_reply_init(&r);
	assert_int_equal(feed(&s, &r, "* OK [UIDVALIDITY 1796460196] UIDs valid"), 0);
	assert_int_equal(s.uidvalidity, 1796460196u);
	assert_int_equal(feed(&s, &r, "* 42 EXISTS"), 0);
	assert_int_equal(s.exists, 42);
	assert_int_equal(feed(&s, &r, "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED"), 0);
	assert_true(s.cap_starttls);
	assert_true(s.cap_logindisabled);
	s.list = g_ptr_array_new_with_free_func(g_free);
	assert_int_equal(feed(&s, &r, "* SEARCH 3 17 99"), 0);
	assert_int_equal(s.list->len, 3);
	assert_string_equal(s.list->pdata[1], "17");
	assert_int_equal(feed(&s, &r, "* SEARCH 3 x"), -1);
	g_ptr_array_set_size(s.list, 0);
	assert_int_equal(feed(&s, &r, "* LIST (\\HasNoChildren) \".\" \"Work.Sub\""), 0);
	assert_int_equal(feed(&s, &r, "* LIST (\\Noselect \\HasChildren) \"/\" Archive"), 0);
	assert_int_equal(feed(&s, &r, "* LIST () NIL INBOX"), 0);
	assert_int_equal(feed(&s, &r, "* LIST (\\Sent) \"/\" \"Sent \\\"Items\\\"\""), 0);
	assert_int_equal(s.list->len, 3);
	assert_string_equal(s.list->pdata[0], "Work.Sub");
	assert_string_equal(s.list->pdata[1], "INBOX");
	assert_string_equal(s.list->pdata[2], "Sent \"Items\"");
	g_ptr_array_free(s.list, TRUE);
	s.list = NULL;
	/* a FETCH with a literal: the items before and after it */
	assert_int_equal(feed(&s, &r, "* 5 FETCH (UID 7 RFC822.SIZE 120 BODY[] {120}"), 0);
	assert_true(r.want_literal);
	assert_int_equal(r.literal, 120);
	assert_int_equal(s.fetch_uid, 7);
	assert_int_equal(s.fetch_seq, 5);
	assert_int_equal(s.fetch_size, 120);
	assert_int_equal(feed(&s, &r, ") FLAGS (\\Seen \\Answered \\Recent))"), 0);
	assert_string_equal(s.fetch_flags, "RS");
	assert_int_equal(feed(&s, &r, "* 6 FETCH (FLAGS () UID 8)"), 0);
	assert_int_equal(s.fetch_uid, 8);
	assert_string_equal(s.fetch_flags, "");
	/* "UIDNEXT" is not "UID" */
	assert_int_equal(feed(&s, &r, "* 7 FETCH (UIDX 9 UID 10)"), 0);
	assert_int_equal(s.fetch_uid, 10);
	/* tagged completion */
	assert_int_equal(feed(&s, &r, "A0001 OK done"), 0);
	assert_true(s.tagged_ok);
	assert_int_equal(feed(&s, &r, "A0002 NO [AUTHENTICATIONFAILED] bad"), 0);
	assert_false(s.tagged_ok);
	client_reply_free(&r);
	sbuf_free(&s.fetch_text);
}

static void flags_and_folders(void **state)
{
	(void)state;
	char out[64];
	imap_flags_to_maildir("\\Seen \\Flagged \\Draft \\Deleted \\Answered", out, sizeof out);
	assert_string_equal(out, "DFRST");
	imap_flags_to_maildir("\\Recent $Forwarded \\SeenX", out, sizeof out);
	assert_string_equal(out, "");
	imap_flags_to_maildir("(\\Seen)", out, sizeof out);
	assert_string_equal(out, "S");
	assert_int_equal(imap_folder_local("INBOX", '/', out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(imap_folder_local("inbox", '/', out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(imap_folder_local("Work/Sub", '/', out, sizeof out), 0);
	assert_string_equal(out, ".Work.Sub");
	assert_int_equal(imap_folder_local("Work.Sub", '.', out, sizeof out), 0);
	assert_string_equal(out, ".Work.Sub");
	assert_int_equal(imap_folder_local("..", '/', out, sizeof out), -1);
	assert_int_equal(imap_folder_local("a/../b", '/', out, sizeof out), -1);
	assert_int_equal(imap_folder_local("/etc", '/', out, sizeof out), -1);
	assert_int_equal(imap_folder_local("a/", '/', out, sizeof out), -1);
	assert_int_equal(imap_folder_local("", '/', out, sizeof out), -1);
	assert_int_equal(imap_folder_local("a\nb", '/', out, sizeof out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pop3_lines),
		cmocka_unit_test(imap_lines),
		cmocka_unit_test(flags_and_folders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
