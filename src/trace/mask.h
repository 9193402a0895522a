/* Passwords never reach the screen or a file: the credentials of FTP
 * (RFC 959 PASS), SMTP/POP3/IMAP SASL (RFC 4954, 5034, 3501 AUTHENTICATE
 * and LOGIN) and POP3 APOP (RFC 1939) are replaced by "****". */
#ifndef INETKIT_TRACE_MASK_H
#define INETKIT_TRACE_MASK_H

#include <stdbool.h>

/* Masks a client command line in place; returns true if it did. */
bool tr_mask_line(char *line);

/* A line that starts a SASL exchange whose next client lines are
 * credentials (AUTH LOGIN, AUTH PLAIN with no initial response,
 * AUTHENTICATE). */
bool tr_mask_starts_sasl(const char *line);

#endif
