/* libFuzzer harness for the IMAP command parser: the literal announcement
 * at the end of a line, the argument tree (atoms, quoted strings, literals
 * {n} and {n+}, lists, BODY[...] atoms), sequence sets, FETCH attributes
 * and section specs, STORE arguments and SEARCH keys, dates.
 *
 * Properties checked, beyond "no crash, no sanitizer report":
 *  - a refusal carries a printable message;
 *  - every argument's string is NUL-terminated at its length, a literal
 *    announcement never exceeds 32 bits;
 *  - a sequence set has 1..IMAP_SEQ_MAX ranges, each lo <= hi;
 *  - FETCH, SEARCH and STORE results respect their limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_parse.h"

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_imap_cmd: check failed: %s (line %d)\n", \
				#cond, __LINE__);                                       \
			abort();                                                        \
		}                                                                       \
	} while (0)

static void check_err(const char *err)
{
	CHECK(err[0] != '\0');
	for (const char *p = err; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
}

static void check_tree(const struct imap_arg *a, size_t n, unsigned depth)
{
	CHECK(depth < IMAP_DEPTH_MAX);
	for (size_t i = 0; i < n; i++) {
		if (a[i].type == IMAP_ARG_LIST) {
			check_tree(a[i].list, a[i].n, depth + 1);
			continue;
		}
		CHECK(a[i].str != NULL && a[i].str[a[i].len] == '\0');
		if (a[i].type != IMAP_ARG_LITERAL)
			CHECK(strlen(a[i].str) == a[i].len);
	}
}

static void check_set(const struct imap_seqset *set)
{
	CHECK(set->n >= 1 && set->n <= IMAP_SEQ_MAX);
	for (size_t i = 0; i < set->n; i++)
		CHECK(set->r[i].lo <= set->r[i].hi && set->r[i].lo >= 1);
}

static void check_search(const struct imap_search *k, unsigned depth)
{
	CHECK(depth < 200);
	for (; k != NULL; k = k->next) {
		if (k->set != NULL)
			check_set(k->set);
		if (k->op == IMAP_SK_OR)
			CHECK(k->kids != NULL && k->kids->next != NULL &&
			      k->kids->next->next == NULL);
		if (k->op == IMAP_SK_NOT)
			CHECK(k->kids != NULL && k->kids->next == NULL);
		check_search(k->kids, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	const char *s = (const char *)data;
	char err[IMAP_ERR_MAX] = "";

	size_t eol = 0;
	while (eol < size && s[eol] != '\r' && s[eol] != '\n')
		eol++;
	uint64_t lit;
	bool plus;
	if (imap_line_literal(s, eol, &lit, &plus) == 1)
		CHECK(lit <= UINT32_MAX);

	struct imap_seqset *set = malloc(sizeof *set);
	CHECK(set != NULL);
	if (imap_seqset_parse(s, eol, set, err) == 0) {
		if (!set->dollar)
			check_set(set);
	} else {
		check_err(err);
	}
	free(set);

	struct imap_args args;
	if (imap_args_parse(s, size, &args, err) < 0) {
		check_err(err);
		return 0;
	}
	check_tree(args.args, args.n, 0);

	static struct imap_fetch f;
	for (size_t i = 0; i < args.n; i++) {
		if (imap_fetch_parse(args.args + i, args.n - i, &f, err) < 0) {
			check_err(err);
			continue;
		}
		CHECK(f.nbodies <= IMAP_FETCH_BODIES_MAX);
		for (size_t j = 0; j < f.nbodies; j++) {
			const struct imap_section *sec = &f.bodies[j];
			CHECK(sec->nparts <= IMAP_PART_DEPTH && sec->nfields <= IMAP_SECTION_MAX);
			CHECK(sec->kind != IMAP_SECTION_MIME || sec->nparts > 0);
			CHECK(!sec->partial || sec->length > 0);
			CHECK(strlen(sec->spec) < sizeof sec->spec);
		}
	}

	struct imap_store st;
	if (imap_store_parse(args.args, args.n, &st, err) == 0) {
		CHECK(st.nflags <= IMAP_FLAGS_MAX);
		for (size_t j = 0; j < st.nflags; j++)
			CHECK(imap_flag_valid(st.flags[j]));
	} else {
		check_err(err);
	}

	struct imap_search_cmd sc;
	if (imap_search_parse(args.args, args.n, &sc, err) == 0) {
		CHECK(sc.nnodes <= IMAP_SEARCH_MAX && sc.nsets <= IMAP_SEARCH_SETS);
		check_search(sc.root.kids, 0);
		imap_search_free(&sc);
	} else {
		check_err(err);
	}

	for (size_t i = 0; i < args.n; i++) {
		const struct imap_arg *a = &args.args[i];
		if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED)
			continue;
		int64_t v;
		(void)imap_date_parse(a->str, &v);
		(void)imap_datetime_parse(a->str, &v);
		int form = imap_string_form(a->str, a->len, true);
		CHECK(form >= 0 && form <= 2);
	}
	imap_args_free(&args);
	return 0;
}
