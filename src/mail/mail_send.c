/* `inetkit mail send`: compose (mail_compose.c) into an anonymous file,
 * then submit it with the relay's SMTP dialect (smtp/smtp_client.c, RFC
 * 5321 with RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 6531 SMTPUTF8), driven on
 * a private event loop until its one callback: the same client code the
 * queue uses, not a second one. RFC 8314: port 465 is implicit TLS, any
 * other port STARTTLS, required (the certificate checked) unless --no-tls.
 * The exit status says whether every recipient was accepted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/loop.h"
#include "core/term.h"
#include "lib/json.h"
#include "lib/sbuf.h"
#include "lib/str.h"
#include "mail/mail.h"
#include "net/endpoint.h"
#include "smtp/smtp_client.h"

struct send_state {
	struct loop *loop;
	bool done;
	struct smtp_client_result res;	/* copied; rcpt owned here */
	size_t n;
};

static void stop_loop(void *arg)
{
	loop_exit(arg);
}

/* The client frees itself from the loop right after its callback: leave
 * the loop one round later, once that has run. */
static void stop_soon(void *arg)
{
	if (loop_defer(arg, stop_loop, arg) < 0)
		loop_exit(arg);
}

static void on_done(void *arg, const struct smtp_client_result *r)
{
	struct send_state *s = arg;
	struct smtp_client_rcpt *keep = s->res.rcpt;
	s->res = *r;
	s->res.rcpt = keep;
	memcpy(keep, r->rcpt, s->n * sizeof *keep);
	s->done = true;
	if (loop_defer(s->loop, stop_soon, s->loop) < 0)
		loop_exit(s->loop);
}

static int copy_to_stdout(int fd, ik_err *e)
{
	char buf[65536];
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof buf, off);
		if (n < 0)
			return ik_err_errno(e, errno, "reading the message");
		if (n == 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return ik_err_errno(e, errno, "standard output");
		off += n;
	}
	return fflush(stdout) == 0 ? 0 : ik_err_errno(e, errno, "standard output");
}

/* The message's size as it goes over the wire: the composer writes LF
 * line ends, SMTP sends CR LF (RFC 1870: SIZE counts the CR LF pairs), so
 * each LF not already after a CR adds one byte. */
static int wire_size(int fd, uint64_t *size, ik_err *e)
{
	char buf[65536];
	off_t off = 0;
	uint64_t n = 0;
	char prev = '\0';
	for (;;) {
		ssize_t got = pread(fd, buf, sizeof buf, off);
		if (got < 0)
			return ik_err_errno(e, errno, "reading the message");
		if (got == 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] == '\n' && prev != '\r')
				n++;
			prev = buf[i];
		}
		n += (uint64_t)got;
		off += got;
	}
	*size = n;
	return 0;
}

static void print_result(const struct mail_cli *c, const struct mail_envelope_out *out,
			 const struct send_state *s, const char *server, uint64_t size,
			 size_t accepted)
{
	if (c->json) {
		struct sbuf b;
		sbuf_init(&b, 16 * 1024 * 1024);
		struct json j;
		json_init(&j, &b);
		json_obj_begin(&j);
		json_kv_str(&j, "server", server);
		json_kv_str(&j, "message_id", out->message_id);
		json_kv_uint(&j, "size", size);
		json_kv_bool(&j, "ok", accepted == out->nrcpt);
		if (s->res.code && accepted == 0) {
			json_kv_int(&j, "code", s->res.code);
			json_kv_str(&j, "error", s->res.text);
		}
		json_key(&j, "accepted");
		json_arr_begin(&j);
		for (size_t i = 0; i < out->nrcpt; i++)
			if (s->res.rcpt[i].code >= 200 && s->res.rcpt[i].code < 300)
				json_str(&j, out->rcpt[i]);
		json_arr_end(&j);
		json_key(&j, "refused");
		json_arr_begin(&j);
		for (size_t i = 0; i < out->nrcpt; i++) {
			const struct smtp_client_rcpt *r = &s->res.rcpt[i];
			if (r->code >= 200 && r->code < 300)
				continue;
			json_obj_begin(&j);
			json_kv_str(&j, "address", out->rcpt[i]);
			json_kv_int(&j, "code", r->code);
			json_kv_str(&j, "reply", r->text);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		sbuf_addch(&b, '\n');
		fwrite(b.data, 1, b.len, stdout);
		sbuf_free(&b);
		return;
	}
	for (size_t i = 0; i < out->nrcpt; i++) {
		const struct smtp_client_rcpt *r = &s->res.rcpt[i];
		if (r->code >= 200 && r->code < 300)
			continue;
		char safe[400];
		fprintf(stderr, "inetkit mail: refused %s: %d %s\n", out->rcpt[i], r->code,
			term_safe_copy(safe, sizeof safe, r->text));
	}
	if (accepted > 0 && !c->quiet)
		printf("sent %s to %zu of %zu recipient%s via %s\n", out->message_id, accepted,
		       out->nrcpt, out->nrcpt == 1 ? "" : "s", server);
}

int mail_cmd_send(struct mail_cli *c)
{
	ik_err e = {0};
	const char *from = c->from ? c->from : c->have_acct ? c->acct.from : NULL;
	int fd = memfd_create("inetkit-mail", MFD_CLOEXEC);
	if (fd < 0)
		return cli_error("mail", CLI_FAIL, "memfd_create: %s", strerror(errno));
	struct mail_envelope_out out;
	if (mail_compose(c, from, fd, &out, &e) < 0) {
		close(fd);
		return cli_error("mail", CLI_USAGE, "%s", e.msg);
	}
	int rc = CLI_FAIL;
	struct loop *loop = NULL;
	SSL_CTX *ctx = NULL;
	struct smtp_envelope env;
	memset(&env, 0, sizeof env);
	struct send_state s;
	memset(&s, 0, sizeof s);
	char user[256], pass[512];
	user[0] = pass[0] = '\0';

	if (c->dry_run) {
		rc = copy_to_stdout(fd, &e) < 0 ? cli_error("mail", CLI_FAIL, "%s", e.msg) : CLI_OK;
		goto done;
	}
	uint64_t size;
	if (wire_size(fd, &size, &e) < 0) {
		rc = cli_error("mail", CLI_FAIL, "%s", e.msg);
		goto done;
	}
	char host[MAIL_HOST_MAX];
	uint16_t port;
	bool implicit;
	if (mail_server_for(c, true, MAIL_PROTO_UNSET, host, sizeof host, &port, &implicit,
			    &e) < 0) {
		rc = cli_error("mail", CLI_USAGE, "%s", e.msg);
		goto done;
	}
	if (mail_credentials(c, host, user, sizeof user, pass, sizeof pass, &e) < 0) {
		rc = cli_error("mail", CLI_FAIL, "%s", e.msg);
		goto done;
	}
	bool tls = mail_tls_on(c);
	if (tls && !(ctx = mail_tls_ctx(c, &e))) {
		rc = cli_error("mail", CLI_FAIL, "TLS: %s", e.msg);
		goto done;
	}

	env.from = out.from;
	env.nrcpt = out.nrcpt;
	env.rcpt = calloc(out.nrcpt, sizeof *env.rcpt);
	size_t *idx = calloc(out.nrcpt, sizeof *idx);
	s.n = out.nrcpt;
	s.res.rcpt = calloc(out.nrcpt, sizeof *s.res.rcpt);
	if (!env.rcpt || !idx || !s.res.rcpt) {
		free(idx);
		rc = cli_error("mail", CLI_FAIL, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < out.nrcpt; i++) {
		env.rcpt[i].addr = out.rcpt[i];
		idx[i] = i;
	}
	env.size = size;
	env.smtputf8 = out.smtputf8;
	env.body = out.eightbit ? SMTP_BODY_8BITMIME : SMTP_BODY_7BIT;

	char helo[256] = "localhost";
	if (gethostname(helo, sizeof helo) < 0 || !helo[0] || strchr(helo, ' '))
		str_copy(helo, sizeof helo, "localhost");
	helo[sizeof helo - 1] = '\0';
	struct smtp_client_opts o = {
		.helo = helo,
		.tls = tls ? SMTP_TLS_REQUIRED : SMTP_TLS_NONE,
		.tls_may = ctx,
		.tls_verify = ctx,
		.auth_user = user[0] ? user : NULL,
		.auth_pass = pass,
		.connect_ms = c->connect_timeout_ms,
		.reply_ms = c->timeout_ms,
		.data_ms = c->timeout_ms * 2,
		.implicit_tls = implicit,
		.trace = c->trace ? stderr : NULL,
	};
	struct endpoint eps[8];
	size_t neps = 0;
	if (endpoint_resolve_connect(host, port, c->family, SOCK_STREAM, eps, 8, &neps, &e) < 0) {
		free(idx);
		rc = cli_error("mail", CLI_FAIL, "%s", e.msg);
		goto done;
	}
	loop = loop_new(&e);
	if (!loop) {
		free(idx);
		rc = cli_error("mail", CLI_FAIL, "%s", e.msg);
		goto done;
	}
	s.loop = loop;
	for (size_t i = 0; i < neps; i++) {
		s.done = false;
		struct smtp_client *sc = smtp_client_start(loop, (struct sockaddr *)&eps[i].ss,
							   eps[i].len, host, &o, &env, idx,
							   out.nrcpt, fd, on_done, &s, &e);
		if (!sc)
			break;
		loop_run(loop);
		if (!s.done) {
			smtp_client_abort(sc);	/* interrupted (SIGINT) */
			s.res.code = 451;
			str_copy(s.res.text, sizeof s.res.text, "interrupted");
			break;
		}
		/* another address of the host only when this one never answered */
		if (s.res.connected || s.res.code == 0)
			break;
	}
	free(idx);
	explicit_bzero(pass, sizeof pass);
	if (!s.done && !s.res.code) {
		rc = cli_error("mail", CLI_FAIL, "%s", e.msg[0] ? e.msg : "not sent");
		goto done;
	}
	size_t accepted = 0;
	for (size_t i = 0; i < out.nrcpt; i++)
		if (s.res.rcpt[i].code >= 200 && s.res.rcpt[i].code < 300)
			accepted++;
	char server[300];
	str_fmt(server, sizeof server, "%s:%u", host, (unsigned)port);
	if (accepted == 0 && s.res.code) {
		char safe[400];
		term_safe_copy(safe, sizeof safe, s.res.text);
		if (c->json)
			print_result(c, &out, &s, server, env.size, accepted);
		rc = cli_error("mail", CLI_FAIL, "not sent: %s", safe);
		goto done;
	}
	print_result(c, &out, &s, server, env.size, accepted);
	rc = accepted == out.nrcpt ? CLI_OK : CLI_FAIL;
done:
	explicit_bzero(pass, sizeof pass);
	free(env.rcpt);
	free(s.res.rcpt);
	if (loop)
		loop_free(loop);
	if (ctx)
		SSL_CTX_free(ctx);
	mail_envelope_out_free(&out);
	close(fd);
	return rc;
}
