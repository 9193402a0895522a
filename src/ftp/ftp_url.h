/* ftp:// and ftps:// URLs (RFC 1738 3.2, RFC 3986 for IPv6 literals and
 * percent-encoding):
 *   ftp://[USER[:PASS]@]HOST[:PORT]/DIR/FILE[;type=a|i|d]
 *   ftps://...   implicit TLS, default port 990
 * The path is relative to the login directory, as RFC 1738 says; a path
 * that starts with %2F (or an extra '/') is absolute. */
#ifndef INETKIT_FTP_URL_H
#define INETKIT_FTP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define FTP_URL_FIELD_MAX 256
#define FTP_PATH_MAX 4096
#define FTP_PORT_DEFAULT 21
#define FTPS_PORT_DEFAULT 990

struct ftp_url {
	bool implicit_tls;		/* ftps:// */
	bool has_user, has_pass;
	char user[FTP_URL_FIELD_MAX];	/* decoded */
	char pass[FTP_URL_FIELD_MAX];	/* decoded */
	char host[FTP_URL_FIELD_MAX];	/* no brackets */
	uint16_t port;
	char path[FTP_PATH_MAX];	/* decoded; "" = the login directory */
	bool is_dir;			/* ended with '/' (or no path at all) */
	char type;			/* 'a', 'i', 'd' from ;type=, or 0 */
};

/* Parse a URL. Errors name the part that is wrong. The password never
 * appears in a message. */
int ftp_url_parse(const char *text, struct ftp_url *u, ik_err *e);
/* As ftp_url_parse, but also takes a bare "HOST", "HOST:PORT" or
 * "[V6]:PORT" (the shell's `open`). */
int ftp_url_parse_host(const char *text, struct ftp_url *u, ik_err *e);
/* Decode %XX escapes of s (len bytes) into out; refuses CR, LF and NUL.
 * Returns 0, or -1 for a bad escape/control byte/overflow (*why says). */
int ftp_url_decode(const char *s, size_t len, char *out, size_t outsz, const char **why);
/* The URL as text with the password replaced by ****. */
const char *ftp_url_masked(const char *text, char *buf, size_t bufsz);

/* Last component of a path ("" for none); dir part into dir. */
const char *ftp_path_base(const char *path);
int ftp_path_dir(const char *path, char *dir, size_t dirsz);
/* dir + "/" + name, without doubling the slash. */
int ftp_path_join(char *out, size_t outsz, const char *dir, const char *name);
/* True for a name a listing may give us that is safe to use as one local
 * path component: not empty, not "." or "..", no '/' and no NUL or
 * control byte. */
bool ftp_name_safe(const char *name);

#endif
