/* SEARCH keys into a tree. RFC 3501 section 6.4.4 (every search key),
 * RFC 4731 (ESEARCH: SEARCH RETURN (MIN MAX ALL COUNT)), RFC 7162 section
 * 3.1.5 (MODSEQ key). The tree is bounded (IMAP_SEARCH_MAX nodes,
 * IMAP_SEARCH_SETS sequence sets), so the cost of running it over a
 * mailbox is bounded by nodes x messages. See imap_parse.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_parse.h"
#include "lib/str.h"

#define ERR(err, msg) imap_err((err), (msg))

struct sp {
	struct imap_search_cmd *cmd;
	const struct imap_arg *a;
	size_t n, i;
	unsigned depth;
	char *err;
};

static struct imap_search *node(struct sp *p, enum imap_search_op op)
{
	if (p->cmd->nnodes == IMAP_SEARCH_MAX) {
		ERR(p->err, "Too many search keys");
		return NULL;
	}
	struct imap_search *k = &p->cmd->nodes[p->cmd->nnodes++];
	memset(k, 0, sizeof *k);
	k->op = op;
	return k;
}

static const char *next_string(struct sp *p)
{
	const char *s;
	if (p->i >= p->n || !imap_arg_astring(&p->a[p->i], &s)) {
		ERR(p->err, "Missing search argument");
		return NULL;
	}
	p->i++;
	return s;
}

static struct imap_seqset *new_set(struct sp *p, const char *s, size_t len)
{
	struct imap_search_cmd *c = p->cmd;
	if (c->nsets == IMAP_SEARCH_SETS) {
		ERR(p->err, "Too many sequence sets");
		return NULL;
	}
	struct imap_seqset *set = malloc(sizeof *set);
	if (set == NULL) {
		ERR(p->err, "Out of memory");
		return NULL;
	}
	c->sets[c->nsets++] = set;
	if (imap_seqset_parse(s, len, set, p->err) < 0)
		return NULL;
	if (set->dollar) {
		ERR(p->err, "$ (SEARCHRES) is not supported");
		return NULL;
	}
	return set;
}

static int parse_key(struct sp *p, struct imap_search **out);

/* Keys up to the end of the current list, chained under parent. */
static int parse_keys(struct sp *p, struct imap_search *parent)
{
	struct imap_search **tail = &parent->kids;
	if (p->i >= p->n)
		return ERR(p->err, "Missing search key");
	while (p->i < p->n) {
		struct imap_search *k;
		if (parse_key(p, &k) < 0)
			return -1;
		*tail = k;
		tail = &k->next;
	}
	return 0;
}

static const struct {
	const char *name;
	enum imap_search_op op;
	const char *flag;	/* FLAG/NOFLAG */
	char arg;		/* 0 none, 's' string, 'd' date, 'n' number, 'h' header field */
} keys[] = {
	{"ALL", IMAP_SK_ALL, NULL, 0},
	{"ANSWERED", IMAP_SK_FLAG, "\\Answered", 0},
	{"DELETED", IMAP_SK_FLAG, "\\Deleted", 0},
	{"DRAFT", IMAP_SK_FLAG, "\\Draft", 0},
	{"FLAGGED", IMAP_SK_FLAG, "\\Flagged", 0},
	{"SEEN", IMAP_SK_FLAG, "\\Seen", 0},
	{"UNANSWERED", IMAP_SK_NOFLAG, "\\Answered", 0},
	{"UNDELETED", IMAP_SK_NOFLAG, "\\Deleted", 0},
	{"UNDRAFT", IMAP_SK_NOFLAG, "\\Draft", 0},
	{"UNFLAGGED", IMAP_SK_NOFLAG, "\\Flagged", 0},
	{"UNSEEN", IMAP_SK_NOFLAG, "\\Seen", 0},
	{"KEYWORD", IMAP_SK_FLAG, NULL, 'k'},
	{"UNKEYWORD", IMAP_SK_NOFLAG, NULL, 'k'},
	{"NEW", IMAP_SK_NEW, NULL, 0},
	{"OLD", IMAP_SK_OLD, NULL, 0},
	{"RECENT", IMAP_SK_RECENT, NULL, 0},
	{"BCC", IMAP_SK_HEADER, "Bcc", 's'},
	{"CC", IMAP_SK_HEADER, "Cc", 's'},
	{"FROM", IMAP_SK_HEADER, "From", 's'},
	{"SUBJECT", IMAP_SK_HEADER, "Subject", 's'},
	{"TO", IMAP_SK_HEADER, "To", 's'},
	{"HEADER", IMAP_SK_HEADER, NULL, 'h'},
	{"BODY", IMAP_SK_BODY, NULL, 's'},
	{"TEXT", IMAP_SK_TEXT, NULL, 's'},
	{"BEFORE", IMAP_SK_BEFORE, NULL, 'd'},
	{"ON", IMAP_SK_ON, NULL, 'd'},
	{"SINCE", IMAP_SK_SINCE, NULL, 'd'},
	{"SENTBEFORE", IMAP_SK_SENTBEFORE, NULL, 'd'},
	{"SENTON", IMAP_SK_SENTON, NULL, 'd'},
	{"SENTSINCE", IMAP_SK_SENTSINCE, NULL, 'd'},
	{"LARGER", IMAP_SK_LARGER, NULL, 'n'},
	{"SMALLER", IMAP_SK_SMALLER, NULL, 'n'},
	{"MODSEQ", IMAP_SK_MODSEQ, NULL, 'm'},
};

static int key_arg(struct sp *p, struct imap_search *k, char arg)
{
	const char *s;
	int64_t days;
	switch (arg) {
	case 0:
		return 0;
	case 's':
		return (k->str2 = next_string(p)) != NULL ? 0 : -1;
	case 'h':
		if ((k->str = next_string(p)) == NULL || (k->str2 = next_string(p)) == NULL)
			return -1;
		return 0;
	case 'k':
		if ((s = next_string(p)) == NULL)
			return -1;
		if (s[0] == '\\' || !imap_flag_valid(s))
			return ERR(p->err, "Invalid keyword");
		k->str = s;
		return 0;
	case 'd':
		if ((s = next_string(p)) == NULL)
			return -1;
		if (imap_date_parse(s, &days) < 0 || days < 0)
			return ERR(p->err, "Invalid search date");
		k->num = (uint64_t)days;
		return 0;
	case 'n':
	case 'm':
		/* MODSEQ [entry-name entry-type-req] mod-sequence-valzer */
		if (arg == 'm' && p->i + 2 < p->n && p->a[p->i].type == IMAP_ARG_QUOTED)
			p->i += 2;
		if (p->i >= p->n || p->a[p->i].type != IMAP_ARG_ATOM ||
		    str_to_u64(p->a[p->i].str, arg == 'm' ? INT64_MAX : UINT32_MAX, &k->num) < 0)
			return ERR(p->err, "Invalid search number");
		p->i++;
		return 0;
	}
	return -1;
}

static int parse_key(struct sp *p, struct imap_search **out)
{
	const struct imap_arg *a = &p->a[p->i++];
	struct imap_search *k;
	if (a->type == IMAP_ARG_LIST) {
		if (p->depth + 1 >= IMAP_DEPTH_MAX)
			return ERR(p->err, "Search keys nested too deep");
		if ((k = node(p, IMAP_SK_AND)) == NULL)
			return -1;
		struct sp sub = {p->cmd, a->list, a->n, 0, p->depth + 1, p->err};
		if (parse_keys(&sub, k) < 0)
			return -1;
		*out = k;
		return 0;
	}
	if (a->type != IMAP_ARG_ATOM)
		return ERR(p->err, "Unknown search key");
	if (strcasecmp(a->str, "NOT") == 0 || strcasecmp(a->str, "OR") == 0) {
		bool or = a->str[0] == 'O' || a->str[0] == 'o';
		if (p->depth + 1 >= IMAP_DEPTH_MAX * 4)
			return ERR(p->err, "Search keys nested too deep");
		if ((k = node(p, or ? IMAP_SK_OR : IMAP_SK_NOT)) == NULL)
			return -1;
		if (p->i >= p->n)
			return ERR(p->err, "Missing search key");
		p->depth++;
		int rc = parse_key(p, &k->kids);
		if (rc == 0 && or) {
			if (p->i >= p->n)
				rc = ERR(p->err, "Missing search key");
			else
				rc = parse_key(p, &k->kids->next);
		}
		p->depth--;
		if (rc < 0)
			return -1;
		*out = k;
		return 0;
	}
	if (strcasecmp(a->str, "UID") == 0) {
		if (p->i >= p->n || p->a[p->i].type != IMAP_ARG_ATOM)
			return ERR(p->err, "Missing UID set");
		if ((k = node(p, IMAP_SK_UID)) == NULL)
			return -1;
		const struct imap_arg *s = &p->a[p->i++];
		if ((k->set = new_set(p, s->str, s->len)) == NULL)
			return -1;
		*out = k;
		return 0;
	}
	if ((a->str[0] >= '0' && a->str[0] <= '9') || a->str[0] == '*' || a->str[0] == '$') {
		if ((k = node(p, IMAP_SK_SEQSET)) == NULL)
			return -1;
		if ((k->set = new_set(p, a->str, a->len)) == NULL)
			return -1;
		*out = k;
		return 0;
	}
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcasecmp(a->str, keys[i].name) != 0)
			continue;
		if ((k = node(p, keys[i].op)) == NULL)
			return -1;
		k->str = keys[i].flag;
		if (key_arg(p, k, keys[i].arg) < 0)
			return -1;
		*out = k;
		return 0;
	}
	return ERR(p->err, "Unknown search key");
}

int imap_search_parse(const struct imap_arg *args, size_t n, struct imap_search_cmd *c,
		      char *err)
{
	memset(c, 0, sizeof *c);
	c->root.op = IMAP_SK_AND;
	size_t i = 0;
	if (i + 1 < n && imap_arg_atom_eq(&args[i], "RETURN") && args[i + 1].type == IMAP_ARG_LIST) {
		c->esearch = true;
		const struct imap_arg *r = args[i + 1].list;
		for (size_t j = 0; j < args[i + 1].n; j++) {
			if (imap_arg_atom_eq(&r[j], "MIN"))
				c->ret |= IMAP_ESEARCH_MIN;
			else if (imap_arg_atom_eq(&r[j], "MAX"))
				c->ret |= IMAP_ESEARCH_MAX;
			else if (imap_arg_atom_eq(&r[j], "ALL"))
				c->ret |= IMAP_ESEARCH_ALL;
			else if (imap_arg_atom_eq(&r[j], "COUNT"))
				c->ret |= IMAP_ESEARCH_COUNT;
			else
				return ERR(err, "Unknown SEARCH RETURN option");
		}
		if (c->ret == 0)
			c->ret = IMAP_ESEARCH_ALL;
		i += 2;
	}
	if (i + 1 < n && imap_arg_atom_eq(&args[i], "CHARSET")) {
		if (!imap_arg_astring(&args[i + 1], &c->charset))
			return ERR(err, "Bad CHARSET");
		i += 2;
	}
	if ((c->nodes = malloc(IMAP_SEARCH_MAX * sizeof *c->nodes)) == NULL)
		return ERR(err, "Out of memory");
	struct sp p = {c, args + i, n - i, 0, 0, err};
	if (parse_keys(&p, &c->root) < 0) {
		imap_search_free(c);
		return -1;
	}
	return 0;
}

void imap_search_free(struct imap_search_cmd *c)
{
	free(c->nodes);
	c->nodes = NULL;
	for (size_t i = 0; i < c->nsets; i++)
		free(c->sets[i]);
	c->nsets = 0;
	c->nnodes = 0;
}
