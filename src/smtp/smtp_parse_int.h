/* Shared by smtp_parse.c (paths, domains, xtext) and smtp_parse_args.c
 * (MAIL and RCPT parameters); not for other modules. */
#ifndef INETKIT_SMTP_SMTP_PARSE_INT_H
#define INETKIT_SMTP_SMTP_PARSE_INT_H

#include <stddef.h>

#include "smtp/smtp_parse.h"

/* How a byte is named in a reply, so that a control byte is never echoed:
 * "a CR", "an LF", "a NUL byte", "a space", "'('", "byte 0xc3". */
const char *smtp_char_name(unsigned char c, char *buf, size_t bufsz);
#define SMTP_CHAR_NAME_MAX 32

#endif
