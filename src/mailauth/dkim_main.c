/* inetkit dkim: DKIM keys for the domains smtpd signs for (RFC 6376 3.6.1
 * key records; RFC 8463 for Ed25519). `keygen` writes the private key and
 * prints the TXT record to publish; smtpd's dkim_key names the file. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/cli.h"
#include "lib/str.h"
#include "mailauth/mailauth.h"
#include "commands.h"

#define CMD "dkim"

static const char usage_text[] =
	"Usage: inetkit dkim keygen DOMAIN SELECTOR --key FILE [--type rsa|ed25519]\n"
	"                           [--bits N]\n"
	"\n"
	"Make a DKIM signing key for DOMAIN: the private key is written to FILE\n"
	"(PEM, mode 0600, never over an existing file) and the DNS record to\n"
	"publish is printed, as a zone-file line for SELECTOR._domainkey.DOMAIN.\n"
	"Name FILE in the [smtp] keys dkim_key (and SELECTOR in dkim_selector).\n"
	"\n"
	"Options:\n"
	"  --key FILE           where to write the private key (required)\n"
	"  --type rsa|ed25519   key type (default rsa: every verifier knows it;\n"
	"                       ed25519, RFC 8463, is short but not yet verified\n"
	"                       everywhere: sign with both to be safe)\n"
	"  --bits N             RSA key size, 1024 to 8192 (default 2048)\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status: 0 written, 1 the key could not be made or written, 2 bad input.\n"
	"See 'inetkit help dkim'.\n";

/* A DNS name (letters, digits, '-', '_', dots between labels). */
static bool dns_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* The record as character-strings of at most 255 bytes (RFC 1035 3.3.14),
 * as a zone file wants a long TXT record. */
static void print_record(const char *selector, const char *domain, const char *txt)
{
	printf("%s._domainkey.%s. IN TXT (", selector, domain);
	size_t n = strlen(txt);
	for (size_t i = 0; i < n; i += 255)
		printf("%s\"%.*s\"", i ? "\n\t" : " ", (int)(n - i < 255 ? n - i : 255), txt + i);
	printf(" )\n");
}

static int keygen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"key", required_argument, NULL, 'k'},
		{"type", required_argument, NULL, 't'},
		{"bits", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *key = NULL, *type = "rsa";
	uint64_t bits = 2048;
	bool bits_given = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'b':
			if (str_to_u64(optarg, 65536, &bits) < 0)
				return cli_usage_error(CMD, "--bits '%s': a number of bits such as "
						       "2048", optarg);
			bits_given = true;
			break;
		case 'h':
			return cli_help(usage_text);
		default:
			return cli_unknown_option(CMD, argv[optind - 1], CLI_NAMES(longopts));
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(CMD, "keygen takes DOMAIN and SELECTOR");
	const char *domain = argv[optind], *selector = argv[optind + 1];
	if (!dns_name_ok(domain))
		return cli_usage_error(CMD, "'%s' is not a domain name such as example.com", domain);
	if (!dns_name_ok(selector))
		return cli_usage_error(CMD, "'%s' is not a selector (letters, digits, '-', '_', "
				       "dots), such as mail2026", selector);
	if (key == NULL)
		return cli_usage_error(CMD, "--key FILE is required: where the private key goes");
	enum dkim_alg alg;
	if (strcmp(type, "rsa") == 0)
		alg = DKIM_RSA_SHA256;
	else if (strcmp(type, "ed25519") == 0)
		alg = DKIM_ED25519_SHA256;
	else
		return cli_usage_error(CMD, "--type '%s': rsa or ed25519", type);
	if (alg == DKIM_ED25519_SHA256 && bits_given)
		return cli_usage_error(CMD, "--bits is for RSA keys (an Ed25519 key has 256)");
	if (alg == DKIM_RSA_SHA256 && (bits < 1024 || bits > 8192))
		return cli_usage_error(CMD, "--bits %llu: an RSA key for DKIM has 1024 to 8192 "
				       "bits (2048 advised)", (unsigned long long)bits);
	ik_err e;
	struct dkim_key *k = dkim_key_generate(alg, (unsigned)bits, &e);
	struct sbuf txt = SBUF_INIT(8192);
	int rc = CLI_FAIL;
	if (k == NULL || dkim_key_write(k, key, &e) < 0 || dkim_key_txt(k, &txt, &e) < 0) {
		cli_error(CMD, CLI_FAIL, "%s", e.msg);
	} else {
		print_record(selector, domain, sbuf_cstr(&txt));
		fprintf(stderr, "inetkit dkim: private key written to %s; publish the record "
			"above, then set dkim_selector = %s and dkim_key = %s in [smtp]\n", key,
			selector, key);
		rc = CLI_OK;
	}
	sbuf_free(&txt);
	dkim_key_free(k);
	return rc;
}

int cmd_dkim(int argc, char **argv)
{
	static const char *const verbs[] = {"keygen"};
	if (argc < 2)
		return cli_usage_error(CMD, "a verb is needed: keygen");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return cli_help(usage_text);
	if (strcmp(argv[1], "keygen") == 0)
		return keygen(argc - 1, argv + 1);
	return cli_unknown(CMD, argv[1], CLI_NAMES(verbs), "unknown verb '%s'", argv[1]);
}
