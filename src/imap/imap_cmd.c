/* The IMAP command table: one row per verb, the states it is allowed in,
 * its flags, and its handler (RFC 3501 6, and the extensions listed in
 * imap.h). core/session_cmd parses "tag verb", checks the row, and calls
 * the handler with the rest of the command (literals included) in
 * c->arg; the handler parses it with imap_args_parse. */
#include "imap/imap_int.h"

#define NA IMAP_ST_NOAUTH
#define AU (IMAP_ST_AUTH | IMAP_ST_SELECTED)
#define SE IMAP_ST_SELECTED
#define ALL (IMAP_ST_NOAUTH | IMAP_ST_AUTH | IMAP_ST_SELECTED)
#define NONE SESSION_ARG_NONE, 0, 0
#define RAW(lo) SESSION_ARG_RAW, lo, 1
#define BL SESSION_CMD_BEFORE_LOGIN
#define NL SESSION_CMD_NEEDS_LOGIN

/* Sorted by verb. Each row: verb, states, flags, arguments, usage,
 * handler, IMAP's bits. */
static const struct session_cmd cmd_table[] = {
	{"APPEND", AU, NL, RAW(1), "APPEND mailbox [(flags)] [date-time] literal",
	 imap_cmd_append, 0, NULL},
	{"AUTHENTICATE", NA, BL | SESSION_CMD_SECRET, RAW(1),
	 "AUTHENTICATE PLAIN [initial-response]", imap_cmd_authenticate, IMAP_P_LOGIN, NULL},
	{"CAPABILITY", ALL, BL, NONE, "CAPABILITY", imap_cmd_capability, 0, NULL},
	{"CHECK", SE, NL, NONE, "CHECK", imap_cmd_check, 0, NULL},
	{"CLOSE", SE, NL, NONE, "CLOSE", imap_cmd_close, 0, NULL},
	{"COPY", SE, NL, RAW(1), "COPY sequence-set mailbox", imap_cmd_copy, 0, NULL},
	{"CREATE", AU, NL, RAW(1), "CREATE mailbox", imap_cmd_create, 0, NULL},
	{"DELETE", AU, NL, RAW(1), "DELETE mailbox", imap_cmd_delete, 0, NULL},
	{"ENABLE", AU, NL, RAW(1), "ENABLE capability...", imap_cmd_enable, 0, NULL},
	{"EXAMINE", AU, NL, RAW(1), "EXAMINE mailbox", imap_cmd_select, 0, NULL},
	{"EXPUNGE", SE, NL, NONE, "EXPUNGE", imap_cmd_expunge, 0, NULL},
	{"FETCH", SE, NL, RAW(1), "FETCH sequence-set (attributes)", imap_cmd_fetch, 0, NULL},
	{"ID", ALL, BL, RAW(1), "ID (\"name\" \"value\" ...) | NIL", imap_cmd_id, 0, NULL},
	{"IDLE", AU, NL, NONE, "IDLE", imap_cmd_idle, 0, NULL},
	{"LIST", AU, NL, RAW(1), "LIST reference mailbox-pattern", imap_cmd_list, 0, NULL},
	{"LOGIN", NA, BL | SESSION_CMD_SECRET, RAW(1), "LOGIN user password", imap_cmd_login,
	 IMAP_P_LOGIN, NULL},
	{"LOGOUT", ALL, BL, NONE, "LOGOUT", imap_cmd_logout, 0, NULL},
	{"LSUB", AU, NL, RAW(1), "LSUB reference mailbox-pattern", imap_cmd_list, 0, NULL},
	{"MOVE", SE, NL, RAW(1), "MOVE sequence-set mailbox", imap_cmd_copy, 0, NULL},
	{"NAMESPACE", AU, NL, NONE, "NAMESPACE", imap_cmd_namespace, 0, NULL},
	{"NOOP", ALL, BL, NONE, "NOOP", imap_cmd_noop, 0, NULL},
	{"RENAME", AU, NL, RAW(1), "RENAME mailbox new-name", imap_cmd_rename, 0, NULL},
	{"SEARCH", SE, NL, RAW(1), "SEARCH [RETURN (options)] [CHARSET name] keys",
	 imap_cmd_search, 0, NULL},
	{"SELECT", AU, NL, RAW(1), "SELECT mailbox", imap_cmd_select, 0, NULL},
	{"STARTTLS", NA, BL | SESSION_CMD_NEEDS_PLAINTEXT, NONE, "STARTTLS", imap_cmd_starttls, 0,
	 NULL},
	{"STATUS", AU, NL, RAW(1), "STATUS mailbox (items)", imap_cmd_status, 0, NULL},
	{"STORE", SE, NL, RAW(1), "STORE sequence-set [+-]FLAGS[.SILENT] (flags)", imap_cmd_store,
	 0, NULL},
	{"SUBSCRIBE", AU, NL, RAW(1), "SUBSCRIBE mailbox", imap_cmd_subscribe, 0, NULL},
	{"UID COPY", SE, NL, RAW(1), "UID COPY uid-set mailbox", imap_cmd_copy, 0, NULL},
	{"UID EXPUNGE", SE, NL, RAW(1), "UID EXPUNGE uid-set", imap_cmd_expunge, 0, NULL},
	{"UID FETCH", SE, NL, RAW(1), "UID FETCH uid-set (attributes)", imap_cmd_fetch, 0, NULL},
	{"UID MOVE", SE, NL, RAW(1), "UID MOVE uid-set mailbox", imap_cmd_copy, 0, NULL},
	{"UID SEARCH", SE, NL, RAW(1), "UID SEARCH keys", imap_cmd_search, 0, NULL},
	{"UID STORE", SE, NL, RAW(1), "UID STORE uid-set [+-]FLAGS[.SILENT] (flags)",
	 imap_cmd_store, 0, NULL},
	{"UNSELECT", SE, NL, NONE, "UNSELECT", imap_cmd_close, 0, NULL},
	{"UNSUBSCRIBE", AU, NL, RAW(1), "UNSUBSCRIBE mailbox", imap_cmd_subscribe, 0, NULL},
};

const struct session_cmds imap_cmds = {
	.table = cmd_table,
	.n = sizeof cmd_table / sizeof cmd_table[0],
	.tagged = true,
	.prelogin = IMAP_ST_NOAUTH,
	.refuse = imap_sess_refuse,
	.before = imap_sess_before,
};
