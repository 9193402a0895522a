/* The session's insides, shared by the session_*.c files only. Protocols
 * use core/session.h. */
#ifndef INETKIT_CORE_SESSION_INT_H
#define INETKIT_CORE_SESSION_INT_H

#include <sys/socket.h>

#include <event2/bufferevent.h>

#include "core/session.h"
#include "net/endpoint.h"

/* Plain sockets: the read size adapts between these (session_read_size). */
#define SESSION_READ_MIN 16384
#define SESSION_READ_MAX 65536
#define SESSION_READ_SMALL 4096		/* reads under this many bytes are "small" */
/* Plain sockets: the largest piece of a file segment one sendfile moves. */
#define SESSION_FILE_MAX_WRITE (16 * 1024 * 1024)

struct session {
	/* What every read of a reflecting session touches comes first: one
	 * cache line, for servers holding thousands of sessions. */
	int fd;
	int pipe_r, pipe_w;		/* splicing: -1 until a stream starts */
	bool reflect;			/* the core moves what it reads to link's output */
	bool write_armed;		/* direct, and output waits for EV_WRITE */
	bool wr_finish, closing;
	size_t rd_chunk;		/* its read size, 16 or 64 KiB */
	uint64_t bytes_in, bytes_out;
	uint64_t last_in_ms, last_out_ms;
	struct loop *loop;
	struct bufferevent *bev;	/* what we read and write (TLS: plaintext side) */
	struct bufferevent *under;	/* after session_starttls: the socket's own */
	struct event *timer;
	struct event *kick;		/* created on first session_kick */
	struct event *rev;		/* plain socket: our own read event */
	unsigned rd_small;		/* small reads in a row */
	bool reading;			/* rev added, or the bufferevent's EV_READ on */
	/* reflect mode and links (session_reflect.c): what this session
	 * reads goes to link's output (itself for echo; the other session of
	 * a relay, NULL once that one has closed), and its pipe feeds
	 * link's socket. link is also the session that feeds this one. */
	struct session *link;
	bool linked;			/* session_link: link is another session */
	bool tls_client;		/* session_new_connected with TLS */
	bool splice_eof;		/* splicing: the peer's EOF read, pipe not empty */
	size_t in_pipe, pipe_cap;	/* bytes in the pipe, its size */
	struct event *wev;		/* splicing: the pipe waits for EV_WRITE */
	struct evbuffer_cb_entry *in_cb, *out_cb, *wire_cb;
	session_io_fn io;
	void *arg;
	struct session_opts o;
	struct session_linescan ls;
	char *linebuf;			/* linecap bytes, allocated on first line */
	size_t linecap;
	enum session_mode mode;
	/* data and counted modes (session_body.c) */
	struct session_datascan ds;	/* its body also counts counted mode's bytes */
	uint64_t cnt_left;		/* counted: bytes still to come */
	bool cnt_discard;		/* counted: dropped, not delivered */
	bool end_pending;		/* data: end marker read, BODY_END not yet delivered */
	/* session_reply_close */
	bool quitting;			/* last reply queued: input is dropped */
	bool write_auto;		/* write_ms was not given: it follows idle_ms */
	uint64_t close_by_ms;		/* quitting: closed at this time at the latest */
	char quit_reason[128];
	int depth;			/* > 0 while the protocol's callback runs */
	uint64_t id;
	uint64_t refused;
	uint64_t start_ms;
	size_t kq_last;			/* kernel send queue at the last timer tick */
	unsigned state;
	bool logged_in;
	bool busy, again;		/* process() is running / must run once more */
	bool paused;
	bool direct;			/* plain socket: we write it ourselves */
	bool metered;			/* an accepted session, counted open (core/metrics.h) */
	bool out_file;			/* output holds a file segment */
	bool tls;
	bool out_over;			/* output over out_high: not reading */
	bool eof_seen, eof_done;	/* peer's EOF read / delivered */
	bool keep_writing;
	bool wr_done, finishing, alert_sent;
	bool want_drained;		/* session_notify_drained: DRAINED at drained_low */
	size_t drained_low;
	int close_err;			/* CLOSED: the errno that ended it */
	bool timed_out;			/* CLOSED: a timeout ended it */
	char proto[32];
	char reason[128];
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char peer_text[ENDPOINT_TEXT_MAX];
};

uint64_t session_now_ms(void);
void session_deliver(struct session *s, enum session_ev_type type, const struct session_ev *ev);
void session_drop(struct session *s, const char *reason);
void session_watch_buffers(struct session *s);
void session_unwatch_buffers(struct session *s);
int session_setup_bev(struct session *s);
void session_close_errno(struct session *s, int err, const char *what);
const char *session_eof_reason(const struct session *s);
/* session_in.c */
void session_switch_mode(struct session *s, enum session_mode mode);
void session_process(struct session *s);
void session_update_reading(struct session *s);
void session_peer_eof(struct session *s);
int session_direct_reader(struct session *s);
bool session_read_size(struct session *s, size_t n);
void session_set_read_mark(struct session *s);
/* session_reflect.c */
/* Where what s reads goes, and (the same session) who feeds s's output:
 * link when reflecting or linked, else s itself. NULL for a linked session
 * whose other side has closed. */
struct session *session_sink(struct session *s);
void session_unlink(struct session *s);
void session_splice_maybe_start(struct session *s);
void session_splice_readable(struct session *s);
void session_reflect_readable(struct session *s);
bool session_splice_full(const struct session *s);
void session_splice_free(struct session *s);
/* session_body.c */
void session_process_data(struct session *s);
void session_process_counted(struct session *s);
/* session_out.c */
int session_direct_write(struct session *s);
void session_finish_write(struct session *s);

#endif
