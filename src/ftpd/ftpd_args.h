/* Arguments of the FTP settings commands, parsed and checked before the
 * handler changes anything: TYPE, MODE, STRU (RFC 959 3.1, 3.4, 4.1.2),
 * REST (RFC 3659 5), AUTH, PBSZ, PROT (RFC 4217 4, 8, 9), OPTS (RFC 2389
 * 4, RFC 2640 3.3 UTF8, RFC 3659 7.9 MLST) and HOST (RFC 7151 3).
 *
 * Each returns 0, or -1 with r holding the reply to send: 501 for bad
 * syntax, 504 for a valid value we do not support (RFC 959's "command not
 * implemented for that parameter"), 536 for PROT S/E (RFC 4217). */
#ifndef INETKIT_FTPD_FTPD_ARGS_H
#define INETKIT_FTPD_FTPD_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ftpd/ftpd_cmd.h"

/* TYPE A [N] -> 'A'; TYPE I, TYPE L 8 -> 'I'. */
int ftpd_args_type(char *const argv[], size_t argc, char *type, struct ftpd_cmd_refusal *r);
/* MODE S only. */
int ftpd_args_mode(const char *arg, struct ftpd_cmd_refusal *r);
/* STRU F only. */
int ftpd_args_stru(const char *arg, struct ftpd_cmd_refusal *r);
/* REST offset: a decimal number of bytes. */
int ftpd_args_rest(const char *arg, uint64_t *offset, struct ftpd_cmd_refusal *r);
/* AUTH TLS (also TLS-C, SSL, TLS-P, which older clients send). */
int ftpd_args_auth(const char *arg, struct ftpd_cmd_refusal *r);
/* PBSZ n: any decimal number; the server answers "200 PBSZ=0". */
int ftpd_args_pbsz(const char *arg, struct ftpd_cmd_refusal *r);
/* PROT C or P -> 'C' / 'P'. */
int ftpd_args_prot(const char *arg, char *level, struct ftpd_cmd_refusal *r);

enum ftpd_opts_kind { FTPD_OPTS_UTF8, FTPD_OPTS_MLST };

struct ftpd_opts {
	enum ftpd_opts_kind kind;
	bool utf8_on;		/* UTF8: ON (or no value) / OFF */
	const char *mlst_facts;	/* MLST: the fact list ("" clears every fact) */
};
/* OPTS UTF8 [ON|OFF], OPTS MLST [facts]. */
int ftpd_args_opts(const char *arg, struct ftpd_opts *o, struct ftpd_cmd_refusal *r);

/* HOST: a domain name (letters, digits, '-', '.') or an address literal
 * in brackets ("[127.0.0.1]", "[::1]"), at most 253 bytes. */
int ftpd_args_host(const char *arg, struct ftpd_cmd_refusal *r);

#endif
