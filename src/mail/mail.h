/* `inetkit mail`: the mail client (send, fetch, list, read). What the verbs
 * share: the parsed command line, the account it resolves to (a
 * ~/.config/inetkit/mail.conf section, overridden by options), credentials
 * and the TLS context.
 *
 * RFC 5322 (messages), RFC 2045-2049 (MIME), RFC 2047 and RFC 2231
 * (non-ASCII headers and parameters: GMime writes them), RFC 6532/6531
 * (UTF-8 addresses: SMTPUTF8), RFC 5321 (SMTP: smtp/smtp_client.c, the
 * relay's dialect, driven here on its own event loop), RFC 8314 (implicit
 * TLS ports 465, 993, 995; STARTTLS elsewhere), RFC 1939 (POP3), RFC 3501
 * (IMAP). */
#ifndef INETKIT_MAIL_MAIL_H
#define INETKIT_MAIL_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "core/config.h"
#include "lib/error.h"

#define MAIL_LIST_MAX 256	/* --to, --attach ...: entries of one option */
#define MAIL_HOST_MAX 256

/* no: plaintext allowed; yes: implicit TLS on 465/993/995, STARTTLS
 * required elsewhere; implicit: TLS from the first byte on any port. */
enum mail_tls { MAIL_TLS_NO = 0, MAIL_TLS_YES = 1, MAIL_TLS_IMPLICIT = 2 };

enum mail_proto { MAIL_PROTO_UNSET = -1, MAIL_PROTO_POP3 = 0, MAIL_PROTO_IMAP = 1 };

/* A repeatable option's values (pointing into argv). */
struct mail_strs {
	const char *v[MAIL_LIST_MAX];
	size_t n;
};

/* An account: the config file's [account NAME] section; strings are owned
 * by the loaded cfg. */
struct mail_account {
	const char *name;
	const char *from;
	const char *user;
	const char *password_command;
	const char *smtp_server;	/* HOST[:PORT] for send */
	const char *server;		/* HOST[:PORT] for fetch/list/read */
	int protocol;			/* enum mail_proto */
	int tls;			/* enum mail_tls */
	bool insecure;
	const char *cacert;
	const char *maildir;
	/* "~/x" in maildir and cacert, with $HOME put in */
	char maildir_buf[2048], cacert_buf[2048];
};

struct mail_cli {
	/* connection, shared by every verb */
	const char *account_name;	/* --account */
	const char *config;		/* --config */
	const char *server;		/* --server HOST:PORT */
	int protocol;			/* --protocol */
	bool no_tls;			/* --no-tls */
	bool implicit_tls;		/* --implicit-tls */
	bool insecure;			/* --insecure */
	const char *cacert;		/* --cacert */
	const char *user;		/* --user */
	const char *netrc;		/* --netrc-file */
	bool trace;			/* --trace */
	bool json;			/* --json */
	bool quiet;
	int family;
	uint64_t connect_timeout_ms, timeout_ms;
	/* send */
	const char *from, *subject, *body, *body_file, *html;
	struct mail_strs to, cc, bcc, attach, header;
	bool dry_run;
	/* fetch, list, read */
	const char *maildir;
	bool keep, delete_;
	struct mail_strs folder;
	bool all_folders;
	const char *save_dir;		/* read --save-attachments */
	int nargs;
	char **args;

	/* resolved */
	struct cfg *cfg;
	struct mail_account acct;	/* zeroed when no account is used */
	bool have_acct;
};

/* The verbs; each returns the exit status and prints its own errors. */
int mail_cmd_send(struct mail_cli *c);
int mail_cmd_fetch(struct mail_cli *c);
int mail_cmd_list(struct mail_cli *c);
int mail_cmd_read(struct mail_cli *c);

/* ---- accounts (mail_conf.c) ---- */
/* Load the config (c->config, or ~/.config/inetkit/mail.conf when it
 * exists) and pick the account (--account, or the file's only one). A
 * missing default file with no --account is no error. */
int mail_conf_load(struct mail_cli *c, ik_err *e);
/* The server for a verb: --server, else the account's (smtp_server for
 * send, server otherwise), with the default port for the protocol and TLS
 * mode when none is given. *implicit_tls: the port is an RFC 8314
 * implicit-TLS one (465, 993, 995). */
int mail_server_for(const struct mail_cli *c, bool smtp, int protocol, char *host, size_t hostsz,
		    uint16_t *port, bool *implicit_tls, ik_err *e);
/* The user name (--user, else the account's; "" when none) and the
 * password: the account's password_command (first line of its output),
 * else ~/.netrc (or --netrc-file) for host and user, else asked on the
 * terminal. */
int mail_credentials(const struct mail_cli *c, const char *host, char *user, size_t usersz,
		     char *pass, size_t passsz, ik_err *e);
/* The TLS context for --cacert/--insecure (or the account's). */
SSL_CTX *mail_tls_ctx(const struct mail_cli *c, ik_err *e);
bool mail_tls_on(const struct mail_cli *c);

/* ---- composing (mail_compose.c) ---- */
struct mail_envelope_out {
	char *from;			/* addr-spec of the sender */
	char **rcpt;			/* To, Cc and Bcc addr-specs, in order */
	size_t nrcpt;
	bool smtputf8;			/* an address needs RFC 6531 */
	bool eightbit;			/* the message holds 8-bit bytes */
	char message_id[256];
};
void mail_envelope_out_free(struct mail_envelope_out *env);
/* Compose the message the options describe and write it to fd (LF line
 * ends). Validates every option first (addresses, headers, files). */
int mail_compose(const struct mail_cli *c, const char *from, int fd,
		 struct mail_envelope_out *env, ik_err *e);
/* A header line given with --header: "Name: value", printable ASCII name
 * without ':', no CR, LF or NUL anywhere, not a header the composer owns.
 * Exported for the unit tests. */
int mail_header_check(const char *h, char *name, size_t namesz, const char **value, ik_err *e);
/* MIME type for a file name by its extension ("application/octet-stream"
 * when unknown). */
const char *mail_mime_type(const char *filename);

void mail_gmime_init(void);

#endif
