/* Services and protocols databases (RFC 6335 service names and port
 * numbers; /etc/services and /etc/protocols through the _r calls). */
#include "net/lookup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "net/lookup_int.h"

/* ---- services and protocols ---------------------------------------------- */

/* The _r database calls want a buffer for the entry's strings; long alias
 * lists need more than the first guess, so it grows up to this. */
#define DB_BUF_MAX (1 << 20)

/* Copies a name and its aliases into fixed fields; *truncated is set when
 * something did not fit. */
static void copy_names(char name[LOOKUP_NAME_MAX], char aliases[][LOOKUP_NAME_MAX],
		       size_t *alias_count, bool *truncated, const char *src_name,
		       char **src_aliases)
{
	if (str_copy(name, LOOKUP_NAME_MAX, src_name) < 0)
		*truncated = true;
	*alias_count = 0;
	for (char **a = src_aliases; a != NULL && *a != NULL; a++) {
		if (*alias_count == LOOKUP_ALIASES_MAX) {
			*truncated = true;
			break;
		}
		if (str_copy(aliases[(*alias_count)++], LOOKUP_NAME_MAX, *a) < 0)
			*truncated = true;
	}
}

/* Runs a database job whose worker leaves an errno in *err (0 if none);
 * on failure e says why, about `query` in the `db` database. */
static enum lookup_status db_run(void (*fn)(void *), void *job, size_t size, const int *err,
				 const char *db, const char *query, int timeout_ms, ik_err *e)
{
	enum lookup_status st = lookup_run_named(fn, job, size, timeout_ms, query, e);
	if (st != LOOKUP_OK)
		return st;
	if (*err != 0) {
		ik_err_errno(e, *err, "cannot read the %s database looking up '%s'", db, query);
		return LOOKUP_FAILED;
	}
	return LOOKUP_OK;
}

struct service_job {
	char query[LOOKUP_NAME_MAX];
	bool by_port;
	uint16_t port;
	char proto[16];		/* "" = tcp, udp, then any */
	int err;		/* an errno from the database, 0 if none */
	struct lookup_service_result res;
};

/* 1 found (entry filled), 0 no entry, -1 failure (j->err set). */
static int service_get(struct service_job *j, const char *proto,
		       struct lookup_service_entry *out)
{
	for (size_t len = 1024; len <= DB_BUF_MAX; len *= 2) {
		char *buf = malloc(len);
		if (buf == NULL) {
			j->err = ENOMEM;
			return -1;
		}
		struct servent se, *found = NULL;
		int rc = j->by_port
			? getservbyport_r((int)htons(j->port), proto, &se, buf, len, &found)
			: getservbyname_r(j->query, proto, &se, buf, len, &found);
		if (found != NULL) {
			memset(out, 0, sizeof *out);
			copy_names(out->name, out->aliases, &out->alias_count, &out->truncated,
				   se.s_name, se.s_aliases);
			if (str_copy(out->proto, sizeof out->proto, se.s_proto) < 0)
				out->truncated = true;
			out->port = ntohs((uint16_t)se.s_port);
		}
		free(buf);
		if (found != NULL)
			return 1;
		if (rc == 0 || rc == ENOENT)
			return 0;
		if (rc != ERANGE) {
			j->err = rc;
			return -1;
		}
	}
	j->err = ERANGE;
	return -1;
}

static void service_work(void *p)
{
	struct service_job *j = p;
	static const char *const both[] = {"tcp", "udp"};
	const char *one[] = {j->proto};
	const char *const *protos = j->proto[0] ? one : both;
	size_t nprotos = j->proto[0] ? 1 : 2;
	struct lookup_service_result *r = &j->res;
	for (size_t i = 0; i < nprotos; i++) {
		int got = service_get(j, protos[i], &r->entries[r->count]);
		if (got < 0)
			return;
		r->count += (size_t)got;
	}
	/* Names that exist only for another protocol (ddp, sctp). */
	if (r->count == 0 && j->proto[0] == '\0' && service_get(j, NULL, &r->entries[0]) > 0)
		r->count = 1;
}

enum lookup_status lookup_service(const char *query, const char *proto,
				  int timeout_ms,
				  struct lookup_service_result *r, ik_err *e)
{
	memset(r, 0, sizeof *r);
	struct service_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		ik_err_errno(e, ENOMEM, "cannot look up '%s'", query);
		return LOOKUP_FAILED;
	}
	enum lookup_status st = LOOKUP_BAD_INPUT;
	enum lookup_arg kind = lookup_parse_port(query, &j->port, e);
	if (kind == LOOKUP_ARG_INVALID)
		goto out;
	if (proto != NULL && lookup_parse_proto_filter(proto, e) == NULL)
		goto out;
	j->by_port = kind == LOOKUP_ARG_NUMBER;
	str_copy(j->query, sizeof j->query, query);
	str_copy(j->proto, sizeof j->proto, proto != NULL ? proto : "");
	st = db_run(service_work, j, sizeof *j, &j->err, "services", query, timeout_ms, e);
	if (st != LOOKUP_OK)
		goto out;
	if (j->res.count == 0 && !j->by_port) {
		if (proto != NULL)
			ik_err_set(e, "no such service '%s' for %s in /etc/services", query, proto);
		else
			ik_err_set(e, "no such service '%s' in /etc/services", query);
		st = LOOKUP_NOT_FOUND;
		goto out;
	}
	*r = j->res;
	r->by_port = j->by_port;
	r->port = j->by_port ? j->port : r->entries[0].port;
out:
	free(j);
	return st;
}

struct proto_job {
	char query[LOOKUP_NAME_MAX];
	bool by_number;
	uint8_t number;
	int err;
	bool found;
	struct lookup_proto_result res;
};

static void proto_work(void *p)
{
	struct proto_job *j = p;
	for (size_t len = 1024; len <= DB_BUF_MAX; len *= 2) {
		char *buf = malloc(len);
		if (buf == NULL) {
			j->err = ENOMEM;
			return;
		}
		struct protoent pe, *found = NULL;
		int rc = j->by_number
			? getprotobynumber_r(j->number, &pe, buf, len, &found)
			: getprotobyname_r(j->query, &pe, buf, len, &found);
		if (found != NULL) {
			struct lookup_proto_result *r = &j->res;
			copy_names(r->name, r->aliases, &r->alias_count, &r->truncated,
				   pe.p_name, pe.p_aliases);
			r->number = pe.p_proto;
			j->found = true;
		}
		free(buf);
		if (found != NULL || rc == 0 || rc == ENOENT)
			return;
		if (rc != ERANGE) {
			j->err = rc;
			return;
		}
	}
	j->err = ERANGE;
}

enum lookup_status lookup_proto(const char *query, int timeout_ms,
				struct lookup_proto_result *r, ik_err *e)
{
	memset(r, 0, sizeof *r);
	struct proto_job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		ik_err_errno(e, ENOMEM, "cannot look up '%s'", query);
		return LOOKUP_FAILED;
	}
	enum lookup_status st = LOOKUP_BAD_INPUT;
	enum lookup_arg kind = lookup_parse_proto(query, &j->number, e);
	if (kind == LOOKUP_ARG_INVALID)
		goto out;
	j->by_number = kind == LOOKUP_ARG_NUMBER;
	str_copy(j->query, sizeof j->query, query);
	st = db_run(proto_work, j, sizeof *j, &j->err, "protocols", query, timeout_ms, e);
	if (st != LOOKUP_OK)
		goto out;
	if (!j->found) {
		if (j->by_number)
			ik_err_set(e, "no protocol number %u in /etc/protocols", j->number);
		else
			ik_err_set(e, "no such protocol '%s' in /etc/protocols", query);
		st = LOOKUP_NOT_FOUND;
	} else {
		*r = j->res;
	}
out:
	free(j);
	return st;
}
