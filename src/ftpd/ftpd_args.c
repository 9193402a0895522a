/* Settings-command arguments: RFC 959, RFC 2389, RFC 2640, RFC 3659,
 * RFC 4217, RFC 7151; see ftpd_args.h. */
#include "ftpd/ftpd_args.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "lib/str.h"
#include "ftpd/ftpd_reply.h"

int ftpd_args_type(char *const argv[], size_t argc, char *type, struct ftpd_cmd_refusal *r)
{
	if (argc < 1 || argc > 2 || strlen(argv[0]) != 1)
		return ftpd_refuse(r, FTPD_R_BAD_ARGS, "Syntax: TYPE A | I");
	const char *fmt = argc == 2 ? argv[1] : NULL;
	switch (argv[0][0]) {
	case 'A': case 'a':
		if (fmt != NULL && !str_eq_nocase(fmt, "N")) {
			if (str_eq_nocase(fmt, "T") || str_eq_nocase(fmt, "C"))
				return ftpd_refuse(r, FTPD_R_BAD_PARAMETER,
					      "Only TYPE A N (non-print) is supported.");
			return ftpd_refuse(r, FTPD_R_BAD_ARGS, "Syntax: TYPE A [N]");
		}
		*type = 'A';
		return 0;
	case 'I': case 'i':
		if (fmt != NULL)
			return ftpd_refuse(r, FTPD_R_BAD_ARGS, "Syntax: TYPE I");
		*type = 'I';
		return 0;
	case 'L': case 'l':
		if (fmt == NULL || strcmp(fmt, "8") != 0)
			return ftpd_refuse(r, FTPD_R_BAD_PARAMETER, "Only TYPE L 8 (= TYPE I) is supported.");
		*type = 'I';
		return 0;
	case 'E': case 'e':
		return ftpd_refuse(r, FTPD_R_BAD_PARAMETER, "TYPE E (EBCDIC) is not supported; use A or I.");
	default:
		return ftpd_refuse(r, FTPD_R_BAD_ARGS, "Unknown TYPE; use A or I.");
	}
}

int ftpd_args_mode(const char *arg, struct ftpd_cmd_refusal *r)
{
	if (str_eq_nocase(arg, "S"))
		return 0;
	if (str_eq_nocase(arg, "B") || str_eq_nocase(arg, "C") || str_eq_nocase(arg, "Z"))
		return ftpd_refuse(r, FTPD_R_BAD_PARAMETER, "Only MODE S (stream) is supported.");
	return ftpd_refuse(r, FTPD_R_BAD_ARGS, "Unknown MODE; use S.");
}

int ftpd_args_stru(const char *arg, struct ftpd_cmd_refusal *r)
{
	if (str_eq_nocase(arg, "F"))
		return 0;
	if (str_eq_nocase(arg, "R") || str_eq_nocase(arg, "P"))
		return ftpd_refuse(r, FTPD_R_BAD_PARAMETER, "Only STRU F (file) is supported.");
	return ftpd_refuse(r, FTPD_R_BAD_ARGS, "Unknown STRU; use F.");
}

int ftpd_args_rest(const char *arg, uint64_t *offset, struct ftpd_cmd_refusal *r)
{
	/* off_t is signed: keep the offset representable. */
	if (str_to_u64(arg, INT64_MAX, offset) < 0)
		return ftpd_refuse(r, FTPD_R_BAD_ARGS, "REST needs a byte offset (a decimal number).");
	return 0;
}

int ftpd_args_auth(const char *arg, struct ftpd_cmd_refusal *r)
{
	static const char *const ok[] = {"TLS", "TLS-C", "SSL", "TLS-P"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (str_eq_nocase(arg, ok[i]))
			return 0;
	return ftpd_refuse(r, FTPD_R_BAD_PARAMETER, "Only AUTH TLS is supported.");
}

int ftpd_args_pbsz(const char *arg, struct ftpd_cmd_refusal *r)
{
	uint64_t n;
	if (str_to_u64(arg, UINT32_MAX, &n) < 0)
		return ftpd_refuse(r, FTPD_R_BAD_ARGS, "PBSZ needs a decimal number; send PBSZ 0.");
	return 0;
}

int ftpd_args_prot(const char *arg, char *level, struct ftpd_cmd_refusal *r)
{
	if (str_eq_nocase(arg, "C") || str_eq_nocase(arg, "P")) {
		*level = (char)(arg[0] & ~0x20);
		return 0;
	}
	if (str_eq_nocase(arg, "S") || str_eq_nocase(arg, "E"))
		return ftpd_refuse(r, FTPD_R_PROT_UNSUPPORTED, "PROT %c is not supported; use C or P.",
			      arg[0] & ~0x20);
	return ftpd_refuse(r, FTPD_R_BAD_PARAMETER, "Unknown protection level; use C or P.");
}

int ftpd_args_opts(const char *arg, struct ftpd_opts *o, struct ftpd_cmd_refusal *r)
{
	memset(o, 0, sizeof *o);
	const char *sp = strchr(arg, ' ');
	size_t nlen = sp != NULL ? (size_t)(sp - arg) : strlen(arg);
	const char *val = sp != NULL ? sp + 1 : "";
	while (*val == ' ')
		val++;
	if (nlen == 4 && strncasecmp(arg, "UTF8", 4) == 0) {
		o->kind = FTPD_OPTS_UTF8;
		if (*val == '\0' || str_eq_nocase(val, "ON"))
			o->utf8_on = true;
		else if (!str_eq_nocase(val, "OFF"))
			return ftpd_refuse(r, FTPD_R_BAD_ARGS, "Syntax: OPTS UTF8 ON | OFF");
		return 0;
	}
	if (nlen == 4 && strncasecmp(arg, "MLST", 4) == 0) {
		o->kind = FTPD_OPTS_MLST;
		o->mlst_facts = val;
		return 0;
	}
	return ftpd_refuse(r, FTPD_R_BAD_ARGS, "Unknown option; OPTS takes UTF8 or MLST.");
}

int ftpd_args_host(const char *arg, struct ftpd_cmd_refusal *r)
{
	size_t n = strlen(arg);
	if (n == 0 || n > 253)
		return ftpd_refuse(r, FTPD_R_BAD_ARGS, "HOST needs a host name of 1 to 253 bytes.");
	if (arg[0] == '[') {
		char lit[64];
		unsigned char buf[16];
		if (arg[n - 1] != ']' || n - 2 >= sizeof lit)
			return ftpd_refuse(r, FTPD_R_BAD_ARGS, "HOST: bad address literal.");
		memcpy(lit, arg + 1, n - 2);
		lit[n - 2] = '\0';
		if (inet_pton(AF_INET, lit, buf) != 1 && inet_pton(AF_INET6, lit, buf) != 1)
			return ftpd_refuse(r, FTPD_R_BAD_ARGS, "HOST: bad address literal.");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char c = arg[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || c == '.';
		if (!ok)
			return ftpd_refuse(r, FTPD_R_BAD_ARGS, "HOST: a host name holds only letters, "
				      "digits, '-' and '.'.");
	}
	return 0;
}
