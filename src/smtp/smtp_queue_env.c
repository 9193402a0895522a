/* The envelope file of a queue entry, STATE_DIR/queue/ID.env: what the
 * relay needs to deliver ID.msg (RFC 5321 envelope, RFC 3461 DSN
 * parameters, how the message came). Line-based text, so that an admin can
 * read it and, with care, edit it; read back with the same care as network
 * input: every line is checked, and a bad one is an error naming the file
 * and the line, never a crash.
 *
 * Version 1:
 *
 *   inetkit-queue 1                         first line, always
 *   from VALUE                              reverse path, "<>" for the null one
 *   rcpt NOTIFY VALUE ORCPT                 one line per recipient, at least one
 *   ret full|hdrs|-                         RET (RFC 3461 4.3), "-": not given
 *   envid VALUE                             ENVID, decoded from xtext
 *   body 7bit|8bitmime|binarymime
 *   smtputf8 yes|no
 *   auth VALUE                              the authenticated user
 *   client VALUE                            "127.0.0.1:5555"
 *   helo VALUE                              the EHLO/HELO name
 *   tls VALUE                               "TLSv1.3 TLS_AES_256_GCM_SHA384"
 *   arrival SECONDS                         unix time
 *   size BYTES                              of ID.msg
 *   attempts N                              delivery attempts so far
 *   next SECONDS                            next attempt, 0 = now
 *   hold yes|no                             held: the relay leaves it alone
 *   warned yes|no                           a delay notice has been sent
 *   error VALUE                             the last temporary failure
 *
 * from, rcpt, arrival and size are required; the other keys at most once,
 * in any order, their defaults "-", 7bit, no and 0. Blank lines and lines
 * starting with '#' are skipped. NOTIFY is "-" (not given) or a comma list
 * of never, success, failure, delay. VALUE is "-" for none, "<>" for the
 * empty string, else the bytes with every byte up to 0x20, 0x7f, '%', '<'
 * and '>' written as %XX (upper-case hex), and a value that is "-" itself
 * as %2D; other bytes, UTF-8 included, are written as they are. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "smtp/smtp_queue.h"

#define ENV_MAGIC "inetkit-queue"
#define ENV_VERSION 1
#define ENV_RCPT_MAX 100000

void smtp_envelope_clear(struct smtp_envelope *env)
{
	if (env == NULL)
		return;
	for (size_t i = 0; i < env->nrcpt; i++) {
		free(env->rcpt[i].addr);
		free(env->rcpt[i].orcpt);
	}
	free(env->rcpt);
	free(env->from);
	free(env->envid);
	free(env->auth_user);
	free(env->client);
	free(env->helo);
	free(env->tls);
	free(env->last_error);
	memset(env, 0, sizeof *env);
}

/* ---- writing ---- */

static bool must_escape(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '%' || c == '<' || c == '>';
}

static void put_value(struct sbuf *b, const char *s)
{
	if (s == NULL) {
		sbuf_addch(b, '-');
		return;
	}
	if (*s == '\0') {
		sbuf_addstr(b, "<>");
		return;
	}
	if (strcmp(s, "-") == 0) {
		sbuf_addstr(b, "%2D");
		return;
	}
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (!must_escape(*p)) {
			sbuf_addch(b, (char)*p);
			continue;
		}
		char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		sbuf_add(b, esc, 3);
	}
}

static void put_line(struct sbuf *b, const char *key, const char *value)
{
	sbuf_addstr(b, key);
	sbuf_addch(b, ' ');
	put_value(b, value);
	sbuf_addch(b, '\n');
}

static const struct {
	unsigned bit;
	const char *word;
} notify_words[] = {
	{SMTP_NOTIFY_NEVER, "never"},
	{SMTP_NOTIFY_SUCCESS, "success"},
	{SMTP_NOTIFY_FAILURE, "failure"},
	{SMTP_NOTIFY_DELAY, "delay"},
};

#define N_NOTIFY (sizeof notify_words / sizeof notify_words[0])

static const char *const ret_words[] = {"-", "full", "hdrs"};
static const char *const body_words[] = {"7bit", "8bitmime", "binarymime"};

const char *smtp_queue_notify_text(unsigned notify, char *buf, size_t bufsz)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < N_NOTIFY; i++)
		if (notify & notify_words[i].bit) {
			int n = str_fmt(buf + o, bufsz - o, "%s%s", o ? "," : "", notify_words[i].word);
			if (n < 0)
				break;
			o += (size_t)n;
		}
	if (o == 0)
		str_copy(buf, bufsz, "-");
	return buf;
}

const char *smtp_queue_ret_word(enum smtp_ret ret)
{
	return ret_words[ret <= SMTP_RET_HDRS ? ret : 0];
}

const char *smtp_queue_body_word(enum smtp_body_type body)
{
	return body_words[body <= SMTP_BODY_BINARYMIME ? body : 0];
}

int smtp_queue_env_format(const struct smtp_envelope *env, struct sbuf *b, ik_err *e)
{
	if (env->from == NULL || env->nrcpt == 0)
		return ik_err_set(e, "queue entry %s: an envelope needs a sender and a recipient",
				  env->id);
	sbuf_printf(b, ENV_MAGIC " %d\n", ENV_VERSION);
	put_line(b, "from", env->from);
	for (size_t i = 0; i < env->nrcpt; i++) {
		char notify[64];
		sbuf_printf(b, "rcpt %s ", smtp_queue_notify_text(env->rcpt[i].notify, notify,
							    sizeof notify));
		put_value(b, env->rcpt[i].addr != NULL ? env->rcpt[i].addr : "");
		sbuf_addch(b, ' ');
		put_value(b, env->rcpt[i].orcpt);
		sbuf_addch(b, '\n');
	}
	sbuf_printf(b, "ret %s\n", smtp_queue_ret_word(env->ret));
	put_line(b, "envid", env->envid);
	sbuf_printf(b, "body %s\n", smtp_queue_body_word(env->body));
	sbuf_printf(b, "smtputf8 %s\n", env->smtputf8 ? "yes" : "no");
	put_line(b, "auth", env->auth_user);
	put_line(b, "client", env->client);
	put_line(b, "helo", env->helo);
	put_line(b, "tls", env->tls);
	sbuf_printf(b, "arrival %" PRId64 "\n", env->arrival);
	sbuf_printf(b, "size %" PRIu64 "\n", env->size);
	if (env->hold)
		sbuf_addstr(b, "hold yes\n");
	if (env->warned)
		sbuf_addstr(b, "warned yes\n");
	if (env->last_error != NULL)
		put_line(b, "error", env->last_error);
	sbuf_printf(b, "attempts %u\n", env->attempts);
	if (sbuf_printf(b, "next %" PRId64 "\n", env->next_attempt) < 0)
		return ik_err_set(e, "queue entry %s: the envelope is too large", env->id);
	return 0;
}

/* ---- reading ---- */

struct reader {
	const char *fname;
	unsigned line;
	ik_err *e;
};

__attribute__((format(printf, 2, 3)))
static int bad(const struct reader *r, const char *fmt, ...)
{
	char what[IK_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return ik_err_set(r->e, "%s line %u: %s", r->fname, r->line, what);
}

/* Decode VALUE (a word of the line) into a new string, or NULL for "-". */
static int get_value(const struct reader *r, const char *key, const char *w, size_t n,
		     char **out)
{
	*out = NULL;
	if (n == 1 && w[0] == '-')
		return 0;
	if (n == 2 && w[0] == '<' && w[1] == '>') {
		*out = calloc(1, 1);
		return *out ? 0 : bad(r, "out of memory");
	}
	char *s = malloc(n + 1);
	if (s == NULL)
		return bad(r, "out of memory");
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];
		if (c == '%') {
			int hi = i + 2 < n ? str_hex_digit(w[i + 1]) : -1;
			int lo = hi >= 0 ? str_hex_digit(w[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi | lo) == 0) {
				free(s);
				return bad(r, "%s: '%%' must start an escape %%01-%%FF", key);
			}
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (must_escape(c)) {
			free(s);
			return bad(r, "%s: byte 0x%02x must be written as %%%02X", key, c, c);
		} else {
			s[o++] = (char)c;
		}
	}
	s[o] = '\0';
	*out = s;
	return 0;
}

static int get_int(const struct reader *r, const char *key, const char *w, size_t n,
		   int64_t min, int64_t max, int64_t *out)
{
	char buf[24];
	bool neg = n > 0 && w[0] == '-';
	uint64_t v;
	if (n == 0 || n - neg >= sizeof buf || (neg && min >= 0))
		goto fail;
	memcpy(buf, w + neg, n - neg);
	buf[n - neg] = '\0';
	if (str_to_u64(buf, (uint64_t)INT64_MAX, &v) < 0)
		goto fail;
	*out = neg ? -(int64_t)v : (int64_t)v;
	if (*out >= min && *out <= max)
		return 0;
fail:
	return bad(r, "%s: '%.*s' is not a number from %" PRId64 " to %" PRId64, key, (int)n, w,
		   min, max);
}

static int get_word(const struct reader *r, const char *key, const char *w, size_t n,
		    const char *const *words, size_t nwords, int *out)
{
	for (size_t i = 0; i < nwords; i++)
		if (strlen(words[i]) == n && memcmp(words[i], w, n) == 0) {
			*out = (int)i;
			return 0;
		}
	char list[128] = "";
	for (size_t i = 0, o = 0; i < nwords; i++) {
		int k = str_fmt(list + o, sizeof list - o, "%s%s", i ? ", " : "", words[i]);
		if (k < 0)
			break;
		o += (size_t)k;
	}
	return bad(r, "%s: '%.*s' is not one of %s", key, (int)n, w, list);
}

static int get_notify(const struct reader *r, const char *w, size_t n, unsigned *out)
{
	*out = 0;
	if (n == 1 && w[0] == '-')
		return 0;
	const char *end = w + n;
	while (w < end) {
		const char *comma = memchr(w, ',', (size_t)(end - w));
		size_t len = (size_t)((comma ? comma : end) - w);
		size_t i;
		for (i = 0; i < N_NOTIFY; i++)
			if (strlen(notify_words[i].word) == len &&
			    memcmp(notify_words[i].word, w, len) == 0)
				break;
		if (i == N_NOTIFY)
			return bad(r, "rcpt: NOTIFY '%.*s' is not never, success, failure or delay",
				   (int)len, w);
		*out |= notify_words[i].bit;
		w += len + (comma != NULL);
		if (comma != NULL && w == end)
			return bad(r, "rcpt: NOTIFY ends with ','");
	}
	if ((*out & SMTP_NOTIFY_NEVER) && *out != SMTP_NOTIFY_NEVER)
		return bad(r, "rcpt: NOTIFY never cannot be combined with another");
	return 0;
}

/* Split a line into at most max words at single spaces. */
static int split(const struct reader *r, const char *p, size_t n, const char *w[], size_t len[],
		 size_t max, size_t *count)
{
	size_t k = 0;
	const char *end = p + n;
	while (p <= end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *stop = sp ? sp : end;
		if (stop == p)
			return bad(r, "empty field (one space between fields, none at the end)");
		if (k == max)
			return bad(r, "too many fields");
		w[k] = p;
		len[k++] = (size_t)(stop - p);
		p = stop + 1;
		if (sp == NULL)
			break;
	}
	*count = k;
	return 0;
}

enum key {
	K_FROM, K_RCPT, K_RET, K_ENVID, K_BODY, K_SMTPUTF8, K_AUTH, K_CLIENT, K_HELO, K_TLS,
	K_ARRIVAL, K_SIZE, K_ATTEMPTS, K_NEXT, K_HOLD, K_WARNED, K_ERROR, N_KEYS
};

static const char *const key_names[N_KEYS] = {
	"from", "rcpt", "ret", "envid", "body", "smtputf8", "auth", "client", "helo", "tls",
	"arrival", "size", "attempts", "next", "hold", "warned", "error",
};

static int add_rcpt(const struct reader *r, struct smtp_envelope *env, const char *w[],
		    size_t len[], size_t nw)
{
	if (nw != 4)
		return bad(r, "rcpt needs NOTIFY ADDRESS ORCPT (use '-' for none)");
	if (env->nrcpt == ENV_RCPT_MAX)
		return bad(r, "more than %d recipients", ENV_RCPT_MAX);
	void *p = realloc(env->rcpt, (env->nrcpt + 1) * sizeof *env->rcpt);
	if (p == NULL)
		return bad(r, "out of memory");
	env->rcpt = p;
	struct smtp_env_rcpt *rc = &env->rcpt[env->nrcpt];
	memset(rc, 0, sizeof *rc);
	env->nrcpt++;
	if (get_notify(r, w[1], len[1], &rc->notify) < 0 ||
	    get_value(r, "rcpt", w[2], len[2], &rc->addr) < 0 ||
	    get_value(r, "rcpt", w[3], len[3], &rc->orcpt) < 0)
		return -1;
	if (rc->addr == NULL || rc->addr[0] == '\0')
		return bad(r, "rcpt: the address must not be empty");
	return 0;
}

static int one_line(const struct reader *r, struct smtp_envelope *env, const char *p, size_t n,
		    bool seen[N_KEYS])
{
	const char *w[4] = {NULL};
	size_t len[4] = {0}, nw = 0;
	if (split(r, p, n, w, len, 4, &nw) < 0)
		return -1;
	size_t k;
	for (k = 0; k < N_KEYS; k++)
		if (strlen(key_names[k]) == len[0] && memcmp(key_names[k], w[0], len[0]) == 0)
			break;
	if (k == N_KEYS)
		return bad(r, "unknown key '%.*s'", (int)len[0], w[0]);
	if (k != K_RCPT && seen[k])
		return bad(r, "%s is given twice", key_names[k]);
	seen[k] = true;
	if (k == K_RCPT)
		return add_rcpt(r, env, w, len, nw);
	if (nw != 2)
		return bad(r, "%s takes one value", key_names[k]);
	const char *v = w[1];
	size_t vn = len[1];
	int64_t num;
	int word = 0;
	switch (k) {
	case K_FROM:
		if (get_value(r, "from", v, vn, &env->from) < 0)
			return -1;
		if (env->from == NULL)
			return bad(r, "from: the sender is '<>' for the null reverse path, not '-'");
		return 0;
	case K_ENVID: return get_value(r, "envid", v, vn, &env->envid);
	case K_AUTH: return get_value(r, "auth", v, vn, &env->auth_user);
	case K_CLIENT: return get_value(r, "client", v, vn, &env->client);
	case K_HELO: return get_value(r, "helo", v, vn, &env->helo);
	case K_TLS: return get_value(r, "tls", v, vn, &env->tls);
	case K_RET:
		if (get_word(r, "ret", v, vn, ret_words, 3, &word) < 0)
			return -1;
		env->ret = (enum smtp_ret)word;
		return 0;
	case K_BODY:
		if (get_word(r, "body", v, vn, body_words, 3, &word) < 0)
			return -1;
		env->body = (enum smtp_body_type)word;
		return 0;
	case K_SMTPUTF8:
	case K_HOLD:
	case K_WARNED: {
		static const char *const yn[] = {"no", "yes"};
		if (get_word(r, key_names[k], v, vn, yn, 2, &word) < 0)
			return -1;
		*(k == K_SMTPUTF8 ? &env->smtputf8 : k == K_HOLD ? &env->hold : &env->warned) =
			word == 1;
		return 0;
	}
	case K_ERROR: return get_value(r, "error", v, vn, &env->last_error);
	case K_ARRIVAL:
	case K_NEXT:
		if (get_int(r, key_names[k], v, vn, 0, INT64_MAX, &num) < 0)
			return -1;
		*(k == K_ARRIVAL ? &env->arrival : &env->next_attempt) = num;
		return 0;
	case K_SIZE:
		if (get_int(r, "size", v, vn, 0, INT64_MAX, &num) < 0)
			return -1;
		env->size = (uint64_t)num;
		return 0;
	case K_ATTEMPTS:
		if (get_int(r, "attempts", v, vn, 0, UINT32_MAX, &num) < 0)
			return -1;
		env->attempts = (unsigned)num;
		return 0;
	}
	return 0;
}

int smtp_queue_env_parse(const char *text, size_t len, const char *fname,
			 struct smtp_envelope *env, ik_err *e)
{
	struct reader r = {fname, 0, e};
	char id[MAILSTORE_ID_MAX];
	str_copy(id, sizeof id, env->id);
	memset(env, 0, sizeof *env);
	str_copy(env->id, sizeof env->id, id);
	bool seen[N_KEYS] = {false};
	const char *p = text, *end = text + len;
	while (p < end) {
		r.line++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		const char *line = p;
		p += n + 1;
		if (memchr(line, '\0', n) != NULL) {
			bad(&r, "a NUL byte in the line");
			goto fail;
		}
		if (r.line == 1) {
			char want[32];
			str_fmt(want, sizeof want, ENV_MAGIC " %d", ENV_VERSION);
			if (n == strlen(want) && memcmp(line, want, n) == 0)
				continue;
			if (n > sizeof ENV_MAGIC && memcmp(line, ENV_MAGIC " ", sizeof ENV_MAGIC) == 0)
				bad(&r, "format version '%.*s' is not one this inetkit reads (it "
				    "reads %d)", (int)(n - sizeof ENV_MAGIC > 20 ? 20 :
				    n - sizeof ENV_MAGIC), line + sizeof ENV_MAGIC, ENV_VERSION);
			else
				bad(&r, "not a queue envelope: the first line must be '%s'", want);
			goto fail;
		}
		if (n == 0 || line[0] == '#')
			continue;
		if (one_line(&r, env, line, n, seen) < 0)
			goto fail;
	}
	if (r.line == 0) {
		r.line = 1;
		bad(&r, "the file is empty");
		goto fail;
	}
	static const enum key required[] = {K_FROM, K_RCPT, K_ARRIVAL, K_SIZE};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!seen[required[i]]) {
			ik_err_set(e, "%s: no '%s' line (an envelope needs from, rcpt, arrival and "
				   "size)", fname, key_names[required[i]]);
			goto fail;
		}
	return 0;
fail:
	smtp_envelope_clear(env);
	str_copy(env->id, sizeof env->id, id);
	return -1;
}
