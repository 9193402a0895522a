/* Composing the message of `inetkit mail send` with GMime: RFC 5322
 * headers (Date, Message-ID added), RFC 2047 encoded words for a non-ASCII
 * subject and names, RFC 2045 transfer encodings chosen by content
 * (quoted-printable or base64 for text, base64 for attachments), RFC 2046
 * multipart/alternative (text + --html) inside multipart/mixed
 * (attachments), RFC 2231 file names (filename*=utf-8''...). No MIME is
 * written by hand here: we only tell GMime what the message holds. Bcc
 * recipients go into the envelope only, never into a header. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "lib/sbuf.h"
#include "lib/str.h"
#include "mail/mail.h"

#define BODY_MAX (64u * 1024 * 1024)

void mail_gmime_init(void)
{
	static bool done;
	if (!done) {
		g_mime_init();
		done = true;
	}
}

/* The composer's own headers: a --header may not replace or repeat them
 * (Bcc above all: it would publish what the user meant to hide). */
static const char *const owned_headers[] = {
	"From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "MIME-Version", NULL,
};

int mail_header_check(const char *h, char *name, size_t namesz, const char **value, ik_err *e)
{
	/* the message quotes only what comes before the line end: a CR
	 * echoed to the terminal would overwrite the message itself */
	if (strpbrk(h, "\r\n"))
		return ik_err_set(e, "--header '%.*s...': CR and LF are not allowed (one header "
				  "per --header; folding is done for you)",
				  (int)(strcspn(h, "\r\n") < 40 ? strcspn(h, "\r\n") : 40), h);
	const char *colon = strchr(h, ':');
	if (!colon || colon == h)
		return ik_err_set(e, "--header '%s': write it as 'Name: value'", h);
	size_t nl = (size_t)(colon - h);
	for (size_t i = 0; i < nl; i++) {
		unsigned char ch = (unsigned char)h[i];
		/* RFC 5322 2.2: printable US-ASCII except ':' */
		if (ch < 33 || ch > 126)
			return ik_err_set(e, "--header '%s': the name must be printable ASCII "
					  "without spaces", h);
	}
	if (nl >= namesz)
		return ik_err_set(e, "--header '%s': name too long", h);
	memcpy(name, h, nl);
	name[nl] = '\0';
	for (size_t i = 0; owned_headers[i]; i++)
		if (strcasecmp(name, owned_headers[i]) == 0)
			return ik_err_set(e, "--header %s: use the option for it, not --header (%s "
					  "is written by inetkit)", name, name);
	if (strncasecmp(name, "Content-", 8) == 0)
		return ik_err_set(e, "--header %s: the MIME structure is written by inetkit", name);
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!str_utf8_valid(v, strlen(v)))
		return ik_err_set(e, "--header %s: the value is not UTF-8", name);
	*value = v;
	return 0;
}

/* A well-kept table instead of libmagic: attachments are named by their
 * extension far more reliably than their first bytes can tell (a .csv is
 * text/plain to magic). Unknown: application/octet-stream. */
const char *mail_mime_type(const char *filename)
{
	static const struct { const char *ext, *type; } types[] = {
		{"txt", "text/plain"}, {"text", "text/plain"}, {"log", "text/plain"},
		{"md", "text/markdown"}, {"csv", "text/csv"}, {"tsv", "text/tab-separated-values"},
		{"html", "text/html"}, {"htm", "text/html"}, {"css", "text/css"},
		{"ics", "text/calendar"}, {"vcf", "text/vcard"}, {"xml", "application/xml"},
		{"json", "application/json"}, {"js", "text/javascript"},
		{"pdf", "application/pdf"}, {"zip", "application/zip"},
		{"gz", "application/gzip"}, {"tgz", "application/gzip"},
		{"tar", "application/x-tar"}, {"xz", "application/x-xz"},
		{"bz2", "application/x-bzip2"}, {"7z", "application/x-7z-compressed"},
		{"doc", "application/msword"}, {"xls", "application/vnd.ms-excel"},
		{"ppt", "application/vnd.ms-powerpoint"},
		{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"odt", "application/vnd.oasis.opendocument.text"},
		{"ods", "application/vnd.oasis.opendocument.spreadsheet"},
		{"rtf", "application/rtf"}, {"eml", "message/rfc822"},
		{"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
		{"gif", "image/gif"}, {"webp", "image/webp"}, {"svg", "image/svg+xml"},
		{"bmp", "image/bmp"}, {"tif", "image/tiff"}, {"tiff", "image/tiff"},
		{"ico", "image/vnd.microsoft.icon"},
		{"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"}, {"wav", "audio/wav"},
		{"flac", "audio/flac"}, {"mp4", "video/mp4"}, {"webm", "video/webm"},
		{"mkv", "video/x-matroska"}, {"pem", "application/x-pem-file"},
		{"asc", "application/pgp-signature"}, {"sig", "application/pgp-signature"},
	};
	const char *base = strrchr(filename, '/');
	base = base ? base + 1 : filename;
	const char *dot = strrchr(base, '.');
	if (dot && dot != base)
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

void mail_envelope_out_free(struct mail_envelope_out *env)
{
	free(env->from);
	for (size_t i = 0; i < env->nrcpt; i++)
		free(env->rcpt[i]);
	free(env->rcpt);
	memset(env, 0, sizeof *env);
}

static bool ascii_only(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* Parse one --to/--cc/--bcc/--from value ("a@b", "Name <a@b>", or several
 * separated by commas) into list; each mailbox's address is checked and,
 * when rcpt is not NULL, added to the envelope. */
static int add_addresses(const char *opt, const char *text, InternetAddressList *list,
			 struct mail_envelope_out *env, bool rcpt, ik_err *e)
{
	if (strpbrk(text, "\r\n"))
		return ik_err_set(e, "%s '%.*s...': CR and LF are not allowed", opt,
				  (int)(strcspn(text, "\r\n") < 40 ? strcspn(text, "\r\n") : 40), text);
	if (!str_utf8_valid(text, strlen(text)))
		return ik_err_set(e, "%s: not UTF-8", opt);
	InternetAddressList *got = internet_address_list_parse(NULL, text);
	int n = got ? internet_address_list_length(got) : 0;
	if (n <= 0) {
		if (got)
			g_object_unref(got);
		return ik_err_set(e, "%s '%s': not an address", opt, text);
	}
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(got, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			g_object_unref(got);
			return ik_err_set(e, "%s '%s': groups are not supported", opt, text);
		}
		InternetAddressMailbox *mb = INTERNET_ADDRESS_MAILBOX(ia);
		const char *addr = internet_address_mailbox_get_idn_addr(mb);
		const char *at = addr ? strrchr(addr, '@') : NULL;
		if (!addr || !at || at == addr || at[1] == '\0' || strlen(addr) > 254 ||
		    strpbrk(addr, " <>\"\\")) {
			g_object_unref(got);
			return ik_err_set(e, "%s '%s': not an address (local@domain)", opt, text);
		}
		if (!ascii_only(addr))
			env->smtputf8 = true;
		char *copy = strdup(addr);
		if (!copy) {
			g_object_unref(got);
			return ik_err_set(e, "out of memory");
		}
		if (rcpt) {
			char **nr = realloc(env->rcpt, (env->nrcpt + 1) * sizeof *nr);
			if (!nr) {
				free(copy);
				g_object_unref(got);
				return ik_err_set(e, "out of memory");
			}
			env->rcpt = nr;
			env->rcpt[env->nrcpt++] = copy;
		} else {
			if (env->from || n > 1) {
				free(copy);
				g_object_unref(got);
				return ik_err_set(e, "%s: one address only", opt);
			}
			env->from = copy;
		}
	}
	if (list)
		internet_address_list_append(list, got);
	g_object_unref(got);
	return 0;
}

/* Whole file into b (bounded), for --body-file, --html and stdin. */
static int slurp(int fd, const char *what, struct sbuf *b, ik_err *e)
{
	for (;;) {
		char *p = sbuf_reserve(b, 65536);
		if (!p)
			return ik_err_set(e, "%s: larger than %u bytes", what, BODY_MAX);
		ssize_t n = read(fd, p, 65536);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ik_err_errno(e, errno, "%s", what);
		}
		if (n == 0)
			break;
		sbuf_commit(b, (size_t)n);
	}
	if (!str_utf8_valid(b->data ? b->data : "", b->len) || (b->len && memchr(b->data, 0, b->len)))
		return ik_err_set(e, "%s: the text is not UTF-8 (attach a binary file with --attach)",
				  what);
	return 0;
}

static int slurp_file(const char *path, const char *what, struct sbuf *b, ik_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ik_err_errno(e, errno, "%s %s", what, path);
	int rc = slurp(fd, what, b, e);
	close(fd);
	return rc;
}

static GMimeObject *text_part(const char *subtype, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
	g_mime_text_part_set_text(tp, text);
	GMimePart *p = GMIME_PART(tp);
	/* 7bit when it is plain ASCII in short lines, else quoted-printable
	 * or base64, whichever GMime finds shorter for this content */
	g_mime_part_set_content_encoding(
		p, g_mime_part_get_best_content_encoding(p, GMIME_ENCODING_CONSTRAINT_7BIT));
	return GMIME_OBJECT(tp);
}

static GMimeObject *attachment(const char *path, ik_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ik_err_errno(e, errno, "--attach %s", path), NULL;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!base[0] || !str_utf8_valid(base, strlen(base))) {
		close(fd);
		return ik_err_set(e, "--attach %s: the file name must be UTF-8", path), NULL;
	}
	const char *type = mail_mime_type(base);
	char major[64];
	const char *slash = strchr(type, '/');
	str_fmt(major, sizeof major, "%.*s", (int)(slash - type), type);
	GMimePart *p = g_mime_part_new_with_type(major, slash + 1);
	GMimeStream *st = g_mime_stream_fs_new(fd);	/* owns fd */
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(st);
	g_mime_part_set_content(p, w);
	g_object_unref(w);
	/* base64 always: the receiver gets the exact bytes, CR LF and all */
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_object_set_disposition(GMIME_OBJECT(p), "attachment");
	g_mime_part_set_filename(p, base);
	return GMIME_OBJECT(p);
}

static int check_text_opt(const char *opt, const char *v, ik_err *e)
{
	if (v && strpbrk(v, "\r\n"))
		return ik_err_set(e, "%s: CR and LF are not allowed", opt);
	if (v && !str_utf8_valid(v, strlen(v)))
		return ik_err_set(e, "%s: not UTF-8", opt);
	return 0;
}

int mail_compose(const struct mail_cli *c, const char *from, int fd,
		 struct mail_envelope_out *env, ik_err *e)
{
	mail_gmime_init();
	memset(env, 0, sizeof *env);
	int rc = -1;
	struct sbuf body, html;
	sbuf_init(&body, BODY_MAX);
	sbuf_init(&html, BODY_MAX);
	GMimeMessage *m = g_mime_message_new(TRUE);
	GMimeObject *top = NULL;

	if (!from || !from[0]) {
		ik_err_set(e, "no sender: give --from or an account with from");
		goto out;
	}
	if (c->to.n + c->cc.n + c->bcc.n == 0) {
		ik_err_set(e, "no recipient: give --to, --cc or --bcc");
		goto out;
	}
	if (check_text_opt("--subject", c->subject, e) < 0)
		goto out;
	if (add_addresses("--from", from, g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_FROM),
			  env, false, e) < 0)
		goto out;
	for (size_t i = 0; i < c->to.n; i++)
		if (add_addresses("--to", c->to.v[i],
				  g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO), env, true,
				  e) < 0)
			goto out;
	for (size_t i = 0; i < c->cc.n; i++)
		if (add_addresses("--cc", c->cc.v[i],
				  g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_CC), env, true,
				  e) < 0)
			goto out;
	for (size_t i = 0; i < c->bcc.n; i++)
		if (add_addresses("--bcc", c->bcc.v[i], NULL, env, true, e) < 0)
			goto out;
	g_mime_message_set_subject(m, c->subject ? c->subject : "", "utf-8");
	for (size_t i = 0; i < c->header.n; i++) {
		char name[128];
		const char *value;
		if (mail_header_check(c->header.v[i], name, sizeof name, &value, e) < 0)
			goto out;
		g_mime_object_append_header(GMIME_OBJECT(m), name, value, "utf-8");
	}

	if (c->body) {
		if (check_text_opt("--body", "", e) < 0 ||
		    sbuf_addstr(&body, c->body) < 0) {
			ik_err_set(e, "--body: too long");
			goto out;
		}
	} else if (c->body_file) {
		if (slurp_file(c->body_file, "--body-file", &body, e) < 0)
			goto out;
	} else if (slurp(STDIN_FILENO, "standard input", &body, e) < 0) {
		goto out;
	}
	if (sbuf_addch(&body, '\0') < 0) {
		ik_err_set(e, "body too long");
		goto out;
	}
	top = text_part("plain", body.data);
	if (c->html) {
		if (slurp_file(c->html, "--html", &html, e) < 0 || sbuf_addch(&html, '\0') < 0) {
			if (!e->msg[0])
				ik_err_set(e, "--html: too long");
			goto out;
		}
		GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
		g_mime_multipart_add(alt, top);
		g_object_unref(top);
		GMimeObject *h = text_part("html", html.data);
		g_mime_multipart_add(alt, h);
		g_object_unref(h);
		top = GMIME_OBJECT(alt);
	}
	if (c->attach.n > 0) {
		GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
		g_mime_multipart_add(mixed, top);
		g_object_unref(top);
		top = GMIME_OBJECT(mixed);
		for (size_t i = 0; i < c->attach.n; i++) {
			GMimeObject *a = attachment(c->attach.v[i], e);
			if (!a)
				goto out;
			g_mime_multipart_add(mixed, a);
			g_object_unref(a);
		}
	}
	g_mime_message_set_mime_part(m, top);

	GDateTime *now = g_date_time_new_now_local();
	g_mime_message_set_date(m, now);
	g_date_time_unref(now);
	const char *at = strrchr(env->from, '@');
	char *mid = g_mime_utils_generate_message_id(at ? at + 1 : "localhost");
	g_mime_message_set_message_id(m, mid);
	str_fmt(env->message_id, sizeof env->message_id, "<%s>", mid);
	g_free(mid);

	int wfd = dup(fd);
	if (wfd < 0) {
		ik_err_errno(e, errno, "dup");
		goto out;
	}
	GMimeStream *out = g_mime_stream_fs_new(wfd);
	GMimeFormatOptions *fo = g_mime_format_options_new();
	g_mime_format_options_set_param_encoding_method(fo, GMIME_PARAM_ENCODING_METHOD_RFC2231);
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
	ssize_t w = g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, out);
	int fl = g_mime_stream_flush(out);
	g_mime_format_options_free(fo);
	g_object_unref(out);
	if (w < 0 || fl < 0) {
		ik_err_set(e, "writing the message failed");
		goto out;
	}
	env->eightbit = env->smtputf8;
	rc = 0;
out:
	if (top)
		g_object_unref(top);
	g_object_unref(m);
	sbuf_free(&body);
	sbuf_free(&html);
	if (rc < 0)
		mail_envelope_out_free(env);
	return rc;
}
