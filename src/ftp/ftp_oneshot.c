/* The one-line commands of `inetkit ftp` (ls, get, cat, put, rm, mkdir,
 * rmdir, mv, mirror): parse the URL, log in, do one thing, QUIT. A failure
 * is reported with the server's own reply (RFC 959 4.2 text). */
#include "ftp/ftp_cli.h"

#include <openssl/ssl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/cli.h"
#include "lib/json.h"
#include "lib/str.h"
#include "core/term.h"

struct oneshot {
	struct ftp_url u;
	struct ftp f;
	SSL_CTX *ctx;
	struct ftp_cred cred;
	bool opened;
};

/* Parse the URL and log in. Returns an exit code (CLI_OK when ready). */
static int begin(struct ftp_cli *c, const char *url, struct oneshot *s)
{
	memset(s, 0, sizeof *s);
	ik_err e;
	if (ftp_url_parse(url, &s->u, &e) < 0)
		return cli_error("ftp", CLI_USAGE, "%s", e.msg);
	if (s->u.type == 'a')
		c->o.ascii = true;
	else if (s->u.type == 'i')
		c->o.ascii = false;
	if (ftp_cred_resolve(&s->u, c->user, c->password_stdin, c->netrc, &s->cred, &e) < 0)
		return cli_error("ftp", CLI_USAGE, "%s", e.msg);
	if (s->u.implicit_tls || c->o.tls) {
		s->ctx = ftp_tls_ctx_new(&c->o, &e);
		if (s->ctx == NULL)
			return cli_error("ftp", CLI_USAGE, "%s", e.msg);
	}
	s->opened = true;
	int r = ftp_open(&s->f, &c->o, s->ctx, s->u.host, s->u.port, s->u.implicit_tls,
			 &s->cred, &e);
	if (r < 0)
		return cli_error("ftp", CLI_FAIL, "%s", e.msg);
	return CLI_OK;
}

static int end(struct oneshot *s, int code)
{
	memset(s->cred.pass, 0, sizeof s->cred.pass);
	if (s->opened)
		ftp_close(&s->f);
	if (s->ctx != NULL)
		SSL_CTX_free(s->ctx);
	return code;
}

static int fail(struct oneshot *s, const ik_err *e)
{
	return end(s, cli_error("ftp", CLI_FAIL, "%s", e->msg));
}

/* begin() on the first argument, a URL that must name a path: CLI_OK, or
 * the exit code once the session has ended. */
static int begin_path(struct ftp_cli *c, struct oneshot *s)
{
	int r = begin(c, c->args[0], s);
	if (r != CLI_OK)
		return end(s, r);
	if (s->u.path[0] == '\0')
		return end(s, cli_error("ftp", CLI_USAGE, "URL '%s' names no file (add /PATH)",
					c->args[0]));
	return CLI_OK;
}

static void format_time(char *buf, size_t sz, const struct ftp_item *it, bool iso)
{
	if (it->prec == 0) {
		str_copy(buf, sz, iso ? "" : "-               ");
		return;
	}
	struct tm tm;
	gmtime_r(&it->mtime, &tm);
	if (iso)
		strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else if (it->prec >= 86400)
		strftime(buf, sz, "%Y-%m-%d      ", &tm);
	else
		strftime(buf, sz, "%Y-%m-%d %H:%M", &tm);
}

int ftp_print_listing(const struct ftp_listing *l, bool long_list, bool json, FILE *out)
{
	if (json) {
		struct sbuf b = SBUF_INIT(256u * 1024 * 1024);
		struct json j;
		json_init(&j, &b);
		json_arr_begin(&j);
		for (size_t i = 0; i < l->n; i++) {
			const struct ftp_item *it = &l->items[i];
			char t[32];
			json_obj_begin(&j);
			json_kv_str(&j, "name", it->name);
			json_kv_str(&j, "type", ftp_ftype_name(it->type));
			if (it->has_size)
				json_kv_uint(&j, "size", it->size);
			else
				json_kv_null(&j, "size");
			format_time(t, sizeof t, it, true);
			if (it->prec > 0)
				json_kv_str(&j, "modify", t);
			else
				json_kv_null(&j, "modify");
			if (it->perm[0])
				json_kv_str(&j, "perm", it->perm);
			if (it->target != NULL)
				json_kv_str(&j, "target", it->target);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		int ok = json_status(&j);
		if (ok == 0)
			fprintf(out, "%s\n", sbuf_cstr(&b));
		sbuf_free(&b);
		return ok;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct ftp_item *it = &l->items[i];
		if (long_list) {
			char perm[12], t[32], size[24];
			if (it->perm[0])
				str_copy(perm, sizeof perm, it->perm);
			else
				str_fmt(perm, sizeof perm, "%c?????????",
					it->type == FTP_FT_DIR ? 'd' : it->type == FTP_FT_LINK ? 'l' : '-');
			format_time(t, sizeof t, it, false);
			if (it->has_size)
				str_fmt(size, sizeof size, "%llu", (unsigned long long)it->size);
			else
				str_copy(size, sizeof size, "-");
			fprintf(out, "%s %12s %s ", perm, size, t);
		}
		term_put_safe(out, it->name);
		if (long_list && it->target != NULL) {
			fputs(" -> ", out);
			term_put_safe(out, it->target);
		}
		fputc('\n', out);
	}
	return 0;
}

int ftp_cli_ls(struct ftp_cli *c)
{
	struct oneshot s;
	int r = begin(c, c->args[0], &s);
	if (r != CLI_OK)
		return end(&s, r);
	struct ftp_listing l;
	ik_err e;
	if (ftp_list_path(&s.f, s.u.path, false, &l, &e) < 0)
		return fail(&s, &e);
	ftp_listing_sort(&l);
	ftp_print_listing(&l, c->long_list, c->json, stdout);
	if (l.skipped > 0)
		fprintf(stderr, "inetkit ftp: %zu listing line%s could not be read and %s skipped\n",
			l.skipped, l.skipped == 1 ? "" : "s", l.skipped == 1 ? "was" : "were");
	ftp_listing_free(&l);
	return end(&s, CLI_OK);
}

static int get_to(struct ftp_cli *c, const char *out)
{
	struct oneshot s;
	int r = begin_path(c, &s);
	if (r != CLI_OK)
		return r;
	char local[FTP_PATH_MAX];
	if (out == NULL) {
		const char *base = ftp_path_base(s.u.path);
		if (!ftp_name_safe(base))
			return end(&s, cli_error("ftp", CLI_USAGE, "no file name in '%s'; give -o FILE",
						 c->args[0]));
		str_copy(local, sizeof local, base);
		out = local;
	}
	ik_err e;
	if (ftp_get(&s.f, s.u.path, out, &e) < 0)
		return fail(&s, &e);
	return end(&s, CLI_OK);
}

int ftp_cli_get(struct ftp_cli *c) { return get_to(c, c->output); }
int ftp_cli_cat(struct ftp_cli *c)
{
	c->o.progress = false;
	return get_to(c, "-");
}

int ftp_cli_put(struct ftp_cli *c)
{
	const char *local = c->args[0];
	struct stat st;
	if (stat(local, &st) < 0 || !S_ISREG(st.st_mode))
		return cli_error("ftp", CLI_USAGE, "'%s' is not a file that can be read", local);
	struct oneshot s;
	int r = begin(c, c->args[1], &s);
	if (r != CLI_OK)
		return end(&s, r);
	char rpath[FTP_PATH_MAX];
	if (s.u.is_dir || s.u.path[0] == '\0')
		ftp_path_join(rpath, sizeof rpath, s.u.path, ftp_path_base(local));
	else
		str_copy(rpath, sizeof rpath, s.u.path);
	ik_err e;
	if (ftp_put(&s.f, local, rpath, &e) < 0)
		return fail(&s, &e);
	return end(&s, CLI_OK);
}

/* A command on one path that must answer 2xx. */
static int simple(struct ftp_cli *c, const char *verb)
{
	struct oneshot s;
	int r = begin_path(c, &s);
	if (r != CLI_OK)
		return r;
	ik_err e;
	if (ftp_expect(&s.f, verb, s.u.path, 2, &e) < 0)
		return fail(&s, &e);
	return end(&s, CLI_OK);
}

int ftp_cli_rm(struct ftp_cli *c)
{
	struct oneshot s;
	int r = begin_path(c, &s);
	if (r != CLI_OK)
		return r;
	ik_err e;
	r = ftp_delete(&s.f, s.u.path, c->recursive, c->mirror.verbose, &e);
	if (r == 1)
		return end(&s, cli_error("ftp", CLI_FAIL, "'%s' is a directory: use 'inetkit ftp "
					 "rmdir URL' when it is empty, or 'inetkit ftp rm -r URL' "
					 "to delete it with everything in it", s.u.path));
	if (r < 0)
		return fail(&s, &e);
	return end(&s, CLI_OK);
}
int ftp_cli_rmdir(struct ftp_cli *c) { return simple(c, "RMD"); }

int ftp_cli_mkdir(struct ftp_cli *c)
{
	if (!c->parents)
		return simple(c, "MKD");
	struct oneshot s;
	int r = begin_path(c, &s);
	if (r != CLI_OK)
		return r;
	ik_err e;
	if (ftp_mkdir_p(&s.f, s.u.path, &e) < 0)
		return fail(&s, &e);
	return end(&s, CLI_OK);
}

int ftp_cli_mv(struct ftp_cli *c)
{
	const char *to = c->args[1];
	if (*to == '\0')
		return cli_usage_error("ftp", "the new name is empty");
	struct oneshot s;
	int r = begin_path(c, &s);
	if (r != CLI_OK)
		return r;
	char dir[FTP_PATH_MAX], target[FTP_PATH_MAX];
	ftp_path_dir(s.u.path, dir, sizeof dir);
	if (to[0] == '/')
		str_copy(target, sizeof target, to);
	else if (ftp_path_join(target, sizeof target, dir, to) < 0)
		return end(&s, cli_usage_error("ftp", "the new name is too long"));
	ik_err e;
	if (ftp_rename(&s.f, s.u.path, target, &e) < 0)
		return fail(&s, &e);
	return end(&s, CLI_OK);
}

int ftp_cli_mirror(struct ftp_cli *c)
{
	const char *url = c->mirror.reverse ? c->args[1] : c->args[0];
	const char *ldir = c->mirror.reverse ? c->args[0] : c->args[1];
	struct stat st;
	if (c->mirror.reverse && (stat(ldir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return cli_error("ftp", CLI_USAGE, "'%s' is not a directory", ldir);
	struct oneshot s;
	int r = begin(c, url, &s);
	if (r != CLI_OK)
		return end(&s, r);
	struct ftp_endpoint_info where;
	memset(&where, 0, sizeof where);
	str_copy(where.host, sizeof where.host, s.u.host);
	where.port = s.u.port;
	where.implicit_tls = s.u.implicit_tls;
	/* Parallel connections log in again with the same credentials. */
	where.cred = s.cred;
	ik_err e;
	r = ftp_mirror(&s.f, &where, &c->mirror, s.u.path, ldir, &e);
	memset(&where.cred, 0, sizeof where.cred);
	if (r < 0)
		return fail(&s, &e);
	return end(&s, CLI_OK);
}
