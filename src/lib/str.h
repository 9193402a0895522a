/* Small string helpers that replace the banned libc calls (strcpy, strcat,
 * sprintf, strncpy, atoi, sscanf, strtok): every one takes the destination
 * size and reports truncation or bad input instead of guessing. */
#ifndef INETKIT_LIB_STR_H
#define INETKIT_LIB_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy src into dst (size dstsz, > 0), always NUL-terminated.
 * Returns 0, or -1 if src did not fit (dst then holds the truncated copy). */
int str_copy(char *dst, size_t dstsz, const char *src);

/* snprintf that returns -1 on truncation or error, else the length. */
int str_fmt(char *dst, size_t dstsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Parse a whole string as an unsigned decimal number in [0, max].
 * No sign, no spaces, no trailing junk. Returns 0 or -1. */
int str_to_u64(const char *s, uint64_t max, uint64_t *out);

/* Sizes such as "512", "10k", "4M", "1G" (powers of 1024). */
int str_to_size(const char *s, uint64_t *out);

/* Durations such as "30", "30s", "5m", "2h", "7d", "250ms"; result in ms. */
int str_to_duration_ms(const char *s, uint64_t *out);

bool str_has_prefix(const char *s, const char *prefix);
bool str_eq_nocase(const char *a, const char *b);
/* The value 0-15 of a hex digit (either case), or -1. */
int str_hex_digit(char c);

/* Split s at the first occurrence of sep: returns a pointer just after it
 * and writes a NUL over it, or NULL if sep is absent (s unchanged). */
char *str_split(char *s, char sep);

/* Two lists of strings hold the same strings in the same order. */
bool str_list_equal(char *const *a, size_t na, char *const *b, size_t nb);

/* Trim ASCII white space at both ends, in place. */
char *str_trim(char *s);

/* UTF-8 (RFC 3629): the length (1-4) of the well-formed character at
 * s[0, len), or -1: a stray continuation byte, a truncated sequence, an
 * overlong form, a surrogate (U+D800-DFFF) or a value over U+10FFFF.
 * len must be > 0. */
int str_utf8_char(const char *s, size_t len);
/* s[0, len) is well-formed UTF-8 throughout (ASCII is). */
bool str_utf8_valid(const char *s, size_t len);

#endif
