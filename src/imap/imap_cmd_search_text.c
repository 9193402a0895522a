/* SEARCH BODY and TEXT on the decoded message (RFC 3501 6.4.4: "messages
 * that contain the specified string"; RFC 9051 6.4.4 makes the intent
 * plain: servers match decoded text, in any case). A body in base64 or
 * quoted-printable, or in ISO-8859-1, holds "café" only once decoded, and
 * a header's encoded-words hold it only once decoded; mail clients
 * (Thunderbird's server search, phones) send the words a user typed.
 *
 * GMime decodes each text part (transfer encoding and charset, to UTF-8)
 * and the header fields (RFC 2047); the match ignores case by Unicode
 * case folding (g_utf8_casefold). It runs only when the raw bytes did not
 * match and could differ once decoded (see imap_search_needs_decoding). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "imap/imap_int.h"

#define SEARCH_DEPTH_MAX 16	/* nested multiparts and messages looked into */

static bool has_ci(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; k > 0 && i + k <= n; i++)
		if (strncasecmp(hay + i, needle, k) == 0)
			return true;
	return k == 0;
}

bool imap_search_needs_decoding(const char *msg, size_t len, const char *needle)
{
	for (const char *p = needle; *p; p++)
		if ((unsigned char)*p >= 0x80)
			return true;
	return has_ci(msg, len, "base64") || has_ci(msg, len, "quoted-printable") ||
	       memmem(msg, len, "=?", 2) != NULL;
}

/* folded: the needle, case-folded UTF-8. */
static bool text_has(const char *text, const char *folded)
{
	if (text == NULL || !g_utf8_validate(text, -1, NULL))
		return false;
	char *t = g_utf8_casefold(text, -1);
	bool hit = t != NULL && strstr(t, folded) != NULL;
	g_free(t);
	return hit;
}

static bool headers_have(GMimeObject *o, const char *folded)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	int n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		/* the decoded value (RFC 2047 encoded-words, to UTF-8) */
		if (text_has(g_mime_header_get_value(h), folded))
			return true;
	}
	return false;
}

static bool object_has(GMimeObject *o, const char *folded, bool header, unsigned depth)
{
	if (o == NULL || depth > SEARCH_DEPTH_MAX)
		return false;
	if (header && headers_have(o, folded))
		return true;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++)
			if (object_has(g_mime_multipart_get_part(mp, i), folded, header, depth + 1))
				return true;
		return false;
	}
	if (GMIME_IS_MESSAGE_PART(o)) {
		/* An attached message: its header is text of this message. */
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		return m != NULL && (headers_have(GMIME_OBJECT(m), folded) ||
				     object_has(g_mime_message_get_mime_part(m), folded, false,
						depth + 1));
	}
	if (GMIME_IS_TEXT_PART(o)) {
		char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(o));
		bool hit = text_has(text, folded);
		g_free(text);
		return hit;
	}
	return false;
}

bool imap_search_decoded(const char *msg, size_t len, const char *needle, bool header)
{
	if (!g_utf8_validate(needle, -1, NULL))
		return false;
	char *folded = g_utf8_casefold(needle, -1);
	if (folded == NULL)
		return false;
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	bool hit = false;
	if (m != NULL) {
		hit = (header && headers_have(GMIME_OBJECT(m), folded)) ||
		      object_has(g_mime_message_get_mime_part(m), folded, false, 0);
		g_object_unref(m);
	}
	g_object_unref(p);
	g_object_unref(st);
	g_free(folded);
	return hit;
}
