/* `inetkit mail list` and `inetkit mail read N`: the messages of a local
 * Maildir (maildir(5), Maildir++ folders) or of a remote IMAP folder (RFC
 * 3501 EXAMINE, FETCH with BODY.PEEK so nothing changes there), parsed
 * with GMime (RFC 5322, RFC 2045-2049, RFC 2047/2231 decoding). Text from
 * a message reaches the terminal only through term_put_safe: a message
 * cannot drive the terminal with escape sequences. Saved attachments get
 * sanitised names (no path separators, no leading dot) and never replace
 * a file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "core/cli.h"
#include "core/fsutil.h"
#include "core/term.h"
#include "lib/json.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "ftp/ftp_client.h"
#include "mail/mail_fetch.h"
#include "mailstore/mailbox.h"

/* One message of a listing. */
struct entry {
	char *path;		/* local file, or NULL for IMAP */
	uint64_t seq, uid;	/* IMAP */
	uint64_t size;
	char flags[MAILBOX_FLAGS_MAX];
	char *date, *from, *subject;
	int64_t mtime;
};

static void entry_free(gpointer p)
{
	struct entry *en = p;
	g_free(en->path);
	g_free(en->date);
	g_free(en->from);
	g_free(en->subject);
	g_free(en);
}

static GMimeMessage *parse_fd(int fd)
{
	mail_gmime_init();
	int d = dup(fd);
	if (d < 0)
		return NULL;
	lseek(d, 0, SEEK_SET);
	GMimeStream *st = g_mime_stream_fs_new(d);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	g_object_unref(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	return m;
}

static GMimeMessage *parse_mem(const char *data, size_t len)
{
	mail_gmime_init();
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	g_object_unref(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	return m;
}

/* Date, From and Subject of m, decoded to UTF-8, into en. */
static void describe(GMimeMessage *m, struct entry *en)
{
	GDateTime *dt = m ? g_mime_message_get_date(m) : NULL;
	en->date = dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : g_strdup("");
	InternetAddressList *from = m ? g_mime_message_get_from(m) : NULL;
	en->from = from && internet_address_list_length(from) > 0
			   ? internet_address_list_to_string(from, NULL, FALSE) : g_strdup("");
	const char *subj = m ? g_mime_message_get_subject(m) : NULL;
	en->subject = g_strdup(subj ? subj : "");
}

/* Local: every file of new/ and cur/, oldest first. */
static int scan_local(const char *dir, GPtrArray *out, ik_err *e)
{
	static const char *const subs[] = {"new", "cur"};
	for (size_t i = 0; i < 2; i++) {
		char path[4096];
		str_fmt(path, sizeof path, "%s/%s", dir, subs[i]);
		DIR *d = opendir(path);
		if (!d)
			return ik_err_errno(e, errno, "Maildir %s", path);
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			struct entry *en = g_new0(struct entry, 1);
			en->path = g_strdup_printf("%s/%s", path, de->d_name);
			struct stat sb;
			if (stat(en->path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
				entry_free(en);
				continue;
			}
			en->size = (uint64_t)sb.st_size;
			en->mtime = (int64_t)sb.st_mtime;
			const char *info = strstr(de->d_name, ":2,");
			str_copy(en->flags, sizeof en->flags, i == 0 ? "N" : info ? info + 3 : "");
			g_ptr_array_add(out, en);
		}
		closedir(d);
	}
	return 0;
}

static int by_time(gconstpointer a, gconstpointer b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	const char *bx = strrchr(x->path, '/'), *by = strrchr(y->path, '/');
	return strcmp(bx, by);
}

/* The local Maildir a verb reads: --maildir, else the account's, plus the
 * Maildir++ folder of --folder. NULL when the verb reads a server. */
static const char *local_dir(const struct mail_cli *c, char *buf, size_t bufsz, ik_err *e)
{
	const char *dir = c->maildir;
	if (!dir && c->have_acct && !c->server && c->protocol == MAIL_PROTO_UNSET)
		dir = c->acct.maildir;
	if (!dir)
		return NULL;
	if (c->folder.n == 0)
		return dir;
	char local[512];
	if (imap_folder_local(c->folder.v[0], '/', local, sizeof local) < 0) {
		ik_err_set(e, "folder '%s': not a usable name", c->folder.v[0]);
		return "";
	}
	str_fmt(buf, bufsz, "%s/%s", dir, local);
	return buf;
}

/* ---- remote: an IMAP folder ---- */

struct remote {
	struct mail_session s;
	GPtrArray *entries;
	struct sbuf lit;		/* the literal of the current FETCH */
	struct entry *cur;
};

static int lit_write(void *arg, const void *p, size_t n, ik_err *e)
{
	struct remote *rm = arg;
	if (sbuf_add(&rm->lit, p, n) < 0)
		return ik_err_set(e, "a header block too large");
	return 0;
}

static int open_remote(struct remote *rm, const struct mail_cli *c, ik_err *e)
{
	memset(rm, 0, sizeof *rm);
	sbuf_init(&rm->lit, MAIL_MSG_MAX);
	if (c->protocol == MAIL_PROTO_POP3 ||
	    (c->protocol == MAIL_PROTO_UNSET && c->have_acct && c->acct.protocol == MAIL_PROTO_POP3))
		return ik_err_set(e, "list and read work on a Maildir or an IMAP folder, not POP3 "
				  "(fetch the mail first)");
	if (mail_session_open(&rm->s, c, MAIL_PROTO_IMAP, e) < 0)
		return -1;
	char qf[600];
	const char *folder = c->folder.n ? c->folder.v[0] : "INBOX";
	size_t o = 0;
	qf[o++] = '"';
	for (const char *p = folder; *p && o + 3 < sizeof qf; p++) {
		if (*p == '\r' || *p == '\n')
			return ik_err_set(e, "folder: CR and LF are not allowed");
		if (*p == '"' || *p == '\\')
			qf[o++] = '\\';
		qf[o++] = *p;
	}
	qf[o++] = '"';
	qf[o] = '\0';
	client_reply_free(&rm->s.r);
	client_reply_init(&rm->s.r);
	client_trace_note(rm->s.c, "step: folder (EXAMINE: read-only)");
	if (client_command(rm->s.c, "EXAMINE", qf, &rm->s.r, e) < 0)
		return -1;
	if (!rm->s.tagged_ok)
		return ik_err_set(e, "EXAMINE %s refused: %s", folder, client_reply_last(&rm->s.r));
	return 0;
}

static void close_remote(struct remote *rm)
{
	ik_err e;
	if (rm->s.c)
		imap_logout(&rm->s, &e);
	mail_session_close(&rm->s);
	sbuf_free(&rm->lit);
}

/* After each literal of FETCH 1:* (... BODY.PEEK[HEADER.FIELDS ...]): one
 * entry from the header block and the items read so far. */
static int lit_end(void *arg, ik_err *e)
{
	(void)e;
	struct remote *rm = arg;
	struct entry *en = g_new0(struct entry, 1);
	en->uid = rm->s.fetch_uid;
	en->size = rm->s.fetch_size;
	en->seq = rm->s.fetch_seq;
	str_copy(en->flags, sizeof en->flags, rm->s.fetch_flags);
	GMimeMessage *m = parse_mem(rm->lit.data ? rm->lit.data : "", rm->lit.len);
	describe(m, en);
	if (m)
		g_object_unref(m);
	g_ptr_array_add(rm->entries, en);
	sbuf_reset(&rm->lit);
	return 0;
}

static int list_remote(struct remote *rm, GPtrArray *out, ik_err *e)
{
	rm->entries = out;
	if (rm->s.exists == 0)
		return 0;
	struct client_sink sink = {.write = lit_write, .end = lit_end, .arg = rm, .fd = -1,
				   .max = MAIL_MSG_MAX};
	struct client_call call = {.expect = CLIENT_EXPECT_TAGGED, .sink = &sink};
	client_reply_free(&rm->s.r);
	client_reply_init(&rm->s.r);
	client_trace_note(rm->s.c, "step: listing (FETCH: flags, size and a few headers)");
	if (client_call(rm->s.c, &call, "FETCH",
			"1:* (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT)])",
			&rm->s.r, e) < 0)
		return -1;
	if (!rm->s.tagged_ok)
		return ik_err_set(e, "FETCH refused: %s", client_reply_last(&rm->s.r));
	return 0;
}

/* ---- output ---- */

static void put_field(const char *s, int width)
{
	/* width in characters, not bytes: UTF-8 continuation bytes do not count */
	int n = 0;
	const unsigned char *p = (const unsigned char *)s;
	for (; *p && n < width; p++) {
		if ((*p & 0xc0) != 0x80)
			n++;
		if (n > width)
			break;
		putchar(term_safe_char(*p));
	}
	while ((*p & 0xc0) == 0x80)
		putchar(*p++);
	for (; n < width; n++)
		putchar(' ');
}

static void print_list(const struct mail_cli *c, GPtrArray *es)
{
	if (c->json) {
		struct sbuf b;
		sbuf_init(&b, 256 * 1024 * 1024);
		struct json j;
		json_init(&j, &b);
		json_arr_begin(&j);
		for (guint i = 0; i < es->len; i++) {
			struct entry *en = es->pdata[i];
			json_obj_begin(&j);
			json_kv_uint(&j, "n", i + 1);
			json_kv_str(&j, "date", en->date);
			json_kv_str(&j, "from", en->from);
			json_kv_str(&j, "subject", en->subject);
			json_kv_uint(&j, "size", en->size);
			json_kv_str(&j, "flags", en->flags);
			if (en->path)
				json_kv_str(&j, "file", en->path);
			else
				json_kv_uint(&j, "uid", en->uid);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		sbuf_addch(&b, '\n');
		fwrite(b.data, 1, b.len, stdout);
		sbuf_free(&b);
		return;
	}
	for (guint i = 0; i < es->len; i++) {
		struct entry *en = es->pdata[i];
		char size[32];
		ftp_human_bytes(size, sizeof size, (double)en->size);
		printf("%4u  %-16s  ", i + 1, en->date);
		put_field(en->from, 28);
		printf("  %-5s %9s  ", en->flags, size);
		term_put_safe(stdout, en->subject);
		putchar('\n');
	}
}

static int gather(const struct mail_cli *c, GPtrArray *es, struct remote *rm, bool *remote,
		  ik_err *e)
{
	char buf[4096];
	e->msg[0] = '\0';
	const char *dir = local_dir(c, buf, sizeof buf, e);
	if (dir && !dir[0])
		return -1;
	*remote = dir == NULL;
	if (dir) {
		if (scan_local(dir, es, e) < 0)
			return -1;
		g_ptr_array_sort(es, by_time);
		return 0;
	}
	if (open_remote(rm, c, e) < 0 || list_remote(rm, es, e) < 0)
		return -1;
	return 0;
}

int mail_cmd_list(struct mail_cli *c)
{
	ik_err e = {0};
	GPtrArray *es = g_ptr_array_new_with_free_func(entry_free);
	struct remote rm;
	memset(&rm, 0, sizeof rm);
	bool remote = false;
	int rc = CLI_OK;
	if (gather(c, es, &rm, &remote, &e) < 0) {
		char safe[sizeof e.msg];
		rc = cli_error("mail", CLI_FAIL, "%s", term_safe_copy(safe, sizeof safe, e.msg));
	} else {
		if (!remote)
			for (guint i = 0; i < es->len; i++) {
				struct entry *en = es->pdata[i];
				int fd = open(en->path, O_RDONLY | O_CLOEXEC);
				GMimeMessage *m = fd >= 0 ? parse_fd(fd) : NULL;
				if (fd >= 0)
					close(fd);
				describe(m, en);
				if (m)
					g_object_unref(m);
			}
		print_list(c, es);
	}
	if (remote)
		close_remote(&rm);
	g_ptr_array_free(es, TRUE);
	return rc;
}

/* ---- read ---- */

/* A file name from a message made safe to create in DIR: its last path
 * component, control bytes and separators as '_', no leading dot. */
static void sanitize(const char *in, size_t idx, char *out, size_t outsz)
{
	const char *base = in ? in : "";
	for (const char *p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)base; *p && o + 1 < outsz && o < 200;
	     p++) {
		unsigned char ch = *p;
		out[o++] = (ch < 0x20 || ch == 0x7f || ch == ':') ? '_' : (char)ch;
	}
	out[o] = '\0';
	/* a cut may split a UTF-8 sequence: drop the broken tail */
	while (o > 0 && !g_utf8_validate(out, (gssize)o, NULL))
		out[--o] = '\0';
	size_t lead = 0;
	while (out[lead] == '.' || out[lead] == ' ')
		lead++;
	memmove(out, out + lead, o - lead + 1);
	if (!out[0])
		str_fmt(out, outsz, "attachment-%zu", idx);
}

/* Create DIR/name without replacing anything: "name", then "name (1)". */
static int create_new(const char *dir, const char *name, char *used, size_t usedsz, ik_err *e)
{
	const char *dot = strrchr(name, '.');
	size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	for (int k = 0; k < 1000; k++) {
		char path[4096];
		if (k == 0)
			str_fmt(used, usedsz, "%s", name);
		else
			str_fmt(used, usedsz, "%.*s (%d)%s", (int)stem, name, k, name + stem);
		str_fmt(path, sizeof path, "%s/%s", dir, used);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return ik_err_errno(e, errno, "%s", path);
	}
	return ik_err_set(e, "%s/%s: too many files of that name", dir, name);
}

struct read_ctx {
	GMimeObject *text, *html;
	GPtrArray *atts;
};

static void collect(GMimeObject *parent, GMimeObject *part, gpointer arg)
{
	(void)parent;
	struct read_ctx *rc = arg;
	if (!GMIME_IS_PART(part))
		return;
	GMimePart *p = GMIME_PART(part);
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	bool att = g_mime_part_is_attachment(p) || g_mime_part_get_filename(p) != NULL;
	if (!att && GMIME_IS_TEXT_PART(part) && g_mime_content_type_is_type(ct, "text", "plain") &&
	    !rc->text)
		rc->text = part;
	else if (!att && GMIME_IS_TEXT_PART(part) && g_mime_content_type_is_type(ct, "text", "html") &&
		 !rc->html)
		rc->html = part;
	else if (att || !GMIME_IS_TEXT_PART(part))
		g_ptr_array_add(rc->atts, part);
}

static GByteArray *decoded(GMimePart *p)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GMimeDataWrapper *w = g_mime_part_get_content(p);
	if (w)
		g_mime_data_wrapper_write_to_stream(w, mem);
	GByteArray *ba = g_byte_array_new();
	GByteArray *src = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_byte_array_append(ba, src->data, src->len);
	g_object_unref(mem);
	return ba;
}

/* A message's text on the terminal: line ends and tabs kept (CR LF as
 * LF), every other control byte shown as '?'. */
static void put_text(const char *s)
{
	for (; *s; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue;
		putchar(*s == '\n' || *s == '\t' ? *s : term_safe_char((unsigned char)*s));
	}
}

static void header_line(const char *name, const char *value)
{
	if (!value || !value[0])
		return;
	printf("%s: ", name);
	term_put_safe(stdout, value);
	putchar('\n');
}

static int show(const struct mail_cli *c, GMimeMessage *m, ik_err *e)
{
	struct entry en = {0};
	describe(m, &en);
	header_line("Date", en.date);
	header_line("From", en.from);
	static const GMimeAddressType types[] = {GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_CC};
	static const char *const names[] = {"To", "Cc"};
	for (size_t i = 0; i < 2; i++) {
		InternetAddressList *l = g_mime_message_get_addresses(m, types[i]);
		if (l && internet_address_list_length(l) > 0) {
			char *s = internet_address_list_to_string(l, NULL, FALSE);
			header_line(names[i], s);
			g_free(s);
		}
	}
	header_line("Subject", en.subject);
	g_free(en.date);
	g_free(en.from);
	g_free(en.subject);
	struct read_ctx rc = {.atts = g_ptr_array_new()};
	GMimeObject *body = g_mime_message_get_mime_part(m);
	if (body && GMIME_IS_PART(body))
		collect(NULL, body, &rc);
	else
		g_mime_message_foreach(m, collect, &rc);
	putchar('\n');
	GMimeObject *t = rc.text ? rc.text : rc.html;
	if (t) {
		/* decoded from its transfer encoding and converted from its
		 * charset to UTF-8 by GMime */
		char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(t));
		if (text) {
			put_text(text);
			if (text[0] && text[strlen(text) - 1] != '\n')
				putchar('\n');
			g_free(text);
		}
		if (!rc.text)
			printf("(the HTML part: the message has no plain text)\n");
	}
	int status = 0;
	for (guint i = 0; i < rc.atts->len; i++) {
		GMimePart *p = GMIME_PART(rc.atts->pdata[i]);
		char *type = g_mime_content_type_get_mime_type(
			g_mime_object_get_content_type(GMIME_OBJECT(p)));
		GByteArray *data = decoded(p);
		const char *fn = g_mime_part_get_filename(p);
		printf("[attachment %u] ", i + 1);
		term_put_safe(stdout, fn ? fn : "(no name)");
		printf(" (%s, %u bytes)", type ? type : "?", data->len);
		if (c->save_dir && status == 0) {
			char safe[256], used[300];
			sanitize(fn, i + 1, safe, sizeof safe);
			int fd = create_new(c->save_dir, safe, used, sizeof used, e);
			if (fd < 0) {
				status = -1;
			} else {
				if (fs_write_all(fd, data->data, data->len) < 0 || fsync(fd) < 0)
					status = ik_err_errno(e, errno, "%s/%s", c->save_dir, used);
				close(fd);
				if (status == 0) {
					printf(" saved as ");
					term_put_safe(stdout, used);
				}
			}
		}
		putchar('\n');
		g_byte_array_unref(data);
		g_free(type);
	}
	g_ptr_array_free(rc.atts, TRUE);
	return status;
}

int mail_cmd_read(struct mail_cli *c)
{
	ik_err e = {0};
	uint64_t n;
	if (str_to_u64(c->args[0], UINT32_MAX, &n) < 0 || n == 0)
		return cli_usage_error("mail", "read: '%s' is not a message number of list",
				       c->args[0]);
	if (c->save_dir) {
		struct stat sb;
		if (stat(c->save_dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
			return cli_usage_error("mail", "--save-attachments %s: not a directory",
					       c->save_dir);
	}
	GPtrArray *es = g_ptr_array_new_with_free_func(entry_free);
	struct remote rm;
	memset(&rm, 0, sizeof rm);
	bool remote = false;
	int rc = CLI_FAIL;
	GMimeMessage *m = NULL;
	int fd = -1;
	if (gather(c, es, &rm, &remote, &e) < 0)
		goto out;
	if (n > es->len) {
		ik_err_set(&e, "no message %llu (there %s %u)", (unsigned long long)n,
			   es->len == 1 ? "is" : "are", es->len);
		goto out;
	}
	struct entry *en = es->pdata[n - 1];
	if (!remote) {
		fd = open(en->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ik_err_errno(&e, errno, "%s", en->path);
			goto out;
		}
	} else {
		fd = memfd_create("inetkit-mail-read", MFD_CLOEXEC);
		if (fd < 0) {
			ik_err_errno(&e, errno, "memfd_create");
			goto out;
		}
		struct client_sink sink;
		client_sink_fd(&sink, fd, MAIL_MSG_MAX);
		struct client_call call = {.expect = CLIENT_EXPECT_TAGGED, .sink = &sink};
		char arg[64];
		str_fmt(arg, sizeof arg, "%llu (BODY.PEEK[])", (unsigned long long)en->uid);
		client_reply_free(&rm.s.r);
		client_reply_init(&rm.s.r);
		client_trace_note(rm.s.c, "step: retrieval (UID FETCH BODY.PEEK[]: read, not marked "
				  "seen)");
		if (client_call(rm.s.c, &call, "UID FETCH", arg, &rm.s.r, &e) < 0)
			goto out;
		if (!rm.s.tagged_ok || rm.s.r.nliterals != 1) {
			ik_err_set(&e, "message %llu is gone from the server", (unsigned long long)n);
			goto out;
		}
	}
	m = parse_fd(fd);
	if (!m) {
		ik_err_set(&e, "message %llu is not a mail message", (unsigned long long)n);
		goto out;
	}
	if (show(c, m, &e) < 0)
		goto out;
	rc = CLI_OK;
out:
	if (rc != CLI_OK) {
		char safe[sizeof e.msg];
		cli_error("mail", CLI_FAIL, "%s", term_safe_copy(safe, sizeof safe, e.msg));
	}
	if (m)
		g_object_unref(m);
	if (fd >= 0)
		close(fd);
	if (remote)
		close_remote(&rm);
	g_ptr_array_free(es, TRUE);
	return rc;
}
