/* Exec mode, as inetd or `ncat --exec` do it: each connection gets its
 * own child process, the peer's bytes on its stdin and its stdout back to
 * the peer. The command is split on spaces and run with execvp: no shell,
 * so nothing the command line holds is ever interpreted. Two pipes carry
 * the data so that each direction can end on its own (half-close):
 * the peer's EOF closes the child's stdin; the child's stdout EOF sends
 * our FIN. The child sees INETKIT_REMOTE_ADDR, INETKIT_REMOTE_PORT,
 * INETKIT_LOCAL_ADDR, INETKIT_LOCAL_PORT and INETKIT_PROTO=TCP. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "core/log.h"
#include "lib/str.h"
#include "tcp/tcp_int.h"

#define EXEC_PIPE_MAX (64 * 1024)	/* bytes queued for the child's stdin */

extern char **environ;

struct tcp_exec {
	pid_t pid;
	struct bufferevent *to_child;	/* its stdin; NULL once closed */
	struct bufferevent *from_child;	/* its stdout; NULL after its EOF */
	bool peer_eof;
};

int tcp_exec_split(const char *cmd, char ***argvp, ik_err *e)
{
	size_t len = strlen(cmd);
	char *buf = malloc(len + 1);
	char **argv = calloc(len / 2 + 2, sizeof *argv);
	if (buf == NULL || argv == NULL) {
		free(buf);
		free(argv);
		return ik_err_set(e, "out of memory");
	}
	memcpy(buf, cmd, len + 1);
	size_t n = 0;
	char *p = buf;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		argv[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
	}
	if (n == 0) {
		free(buf);
		free(argv);
		return ik_err_set(e, "--exec needs a command, e.g. --exec /bin/cat");
	}
	/* argv[0] must be the start of buf: tcp_conf_free frees it. */
	if (argv[0] != buf) {
		memmove(buf, argv[0], strlen(argv[0]) + 1);
		argv[0] = buf;
	}
	argv[n] = NULL;
	*argvp = argv;
	return 0;
}

static bool executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Refuse a command that cannot run before serving anyone. */
int tcp_exec_check(char **argv, ik_err *e)
{
	const char *cmd = argv[0];
	if (strchr(cmd, '/') != NULL) {
		if (!executable(cmd))
			return ik_err_set(e, "--exec: '%s' is not an executable file", cmd);
		return 0;
	}
	const char *path = getenv("PATH");
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path != '\0') {
		size_t n = strcspn(path, ":");
		char full[4096];
		if (n > 0 && str_fmt(full, sizeof full, "%.*s/%s", (int)n, path, cmd) > 0 &&
		    executable(full))
			return 0;
		path += n;
		if (*path == ':')
			path++;
	}
	return ik_err_set(e, "--exec: '%s' is not found in PATH; give its full path", cmd);
}

/* ---- the two pipes ---- */

static void exec_close_stdin(struct tcp_exec *x)
{
	if (x->to_child != NULL) {
		bufferevent_free(x->to_child);
		x->to_child = NULL;
	}
}

static void on_child_in_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct tcp_conn *c = arg;
	struct tcp_exec *x = c->exec;
	if (x->peer_eof)
		exec_close_stdin(x);	/* all of the peer's bytes are in; now EOF */
	else
		session_kick(c->s);	/* the peer's bytes that waited */
}

static void on_child_in_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	struct tcp_conn *c = arg;
	/* The child stopped reading (exited, or closed stdin): what the peer
	 * still sends has nowhere to go and is dropped. */
	exec_close_stdin(c->exec);
	session_kick(c->s);
}

static void on_child_out(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;
	evbuffer_add_buffer(session_output(c->s), bufferevent_get_input(bev));
	session_flush(c->s);
	/* The peer reads slower than the child writes: let the child wait. */
	if (!session_closing(c->s) &&
	    evbuffer_get_length(session_output(c->s)) > SESSION_DEFAULT_OUT_HIGH)
		bufferevent_disable(bev, EV_READ);
}

static void on_child_out_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	struct tcp_conn *c = arg;
	/* EOF or error on the child's stdout: it has nothing more to say. */
	evbuffer_add_buffer(session_output(c->s), bufferevent_get_input(bev));
	bufferevent_free(bev);
	c->exec->from_child = NULL;
	session_shutdown_write(c->s);
}

/* ---- the child ---- */

static char *env_entry(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *s = malloc(n);
	if (s != NULL)
		str_fmt(s, n, "%s=%s", name, value);
	return s;
}

static void free_env(char **env, size_t first, size_t n)
{
	for (size_t i = first; i < n; i++)
		free(env[i]);
	free(env);
}

/* environ without our own names, plus the connection's addresses. */
static char **child_env(struct tcp_conn *c, size_t *first)
{
	size_t n = 0;
	while (environ[n] != NULL)
		n++;
	char **env = calloc(n + 6, sizeof *env);
	if (env == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!str_has_prefix(environ[i], "INETKIT_REMOTE_") &&
		    !str_has_prefix(environ[i], "INETKIT_LOCAL_") &&
		    !str_has_prefix(environ[i], "INETKIT_PROTO="))
			env[k++] = environ[i];
	*first = k;
	char host[ENDPOINT_TEXT_MAX], port[8];
	socklen_t plen;
	const struct sockaddr *peer = session_peer_addr(c->s, &plen);
	str_fmt(port, sizeof port, "%u", endpoint_port(peer));
	env[k++] = env_entry("INETKIT_REMOTE_ADDR", endpoint_format_host(peer, host, sizeof host));
	env[k++] = env_entry("INETKIT_REMOTE_PORT", port);
	struct sockaddr_storage local;
	socklen_t llen = sizeof local;
	if (session_local_addr(c->s, &local, &llen) == 0) {
		str_fmt(port, sizeof port, "%u", endpoint_port((struct sockaddr *)&local));
		env[k++] = env_entry("INETKIT_LOCAL_ADDR",
				     endpoint_format_host((struct sockaddr *)&local, host, sizeof host));
		env[k++] = env_entry("INETKIT_LOCAL_PORT", port);
	}
	env[k++] = env_entry("INETKIT_PROTO", "TCP");
	for (size_t i = *first; i < k; i++)
		if (env[i] == NULL) {
			free_env(env, *first, k);
			return NULL;
		}
	return env;
}

static void child_run(int in, int out, char **argv, char **env)
{
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(127);
	/* Our ignored SIGPIPE and blocked signals would survive exec. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvpe(argv[0], argv, env);
	int err = errno;
	dprintf(2, "inetkit tcp: cannot run '%s': %s\n", argv[0], strerror(err));
	_exit(127);
}

int tcp_exec_start(struct tcp_conn *c, ik_err *e)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return ik_err_errno(e, errno, "cannot make a pipe");
	if (pipe2(out, O_CLOEXEC) < 0) {
		int err = errno;
		close(in[0]);
		close(in[1]);
		return ik_err_errno(e, err, "cannot make a pipe");
	}
	size_t first = 0;
	char **env = child_env(c, &first);
	struct tcp_exec *x = calloc(1, sizeof *x);
	pid_t pid = -1;
	if (env != NULL && x != NULL) {
		fflush(NULL);
		pid = fork();
		if (pid == 0)
			child_run(in[0], out[1], tcp_conn_conf(c)->exec_argv, env);
	}
	int err = errno;
	close(in[0]);
	close(out[1]);
	if (env != NULL) {
		size_t k = first;
		while (env[k] != NULL)
			k++;
		free_env(env, first, k);
	}
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		free(x);
		return ik_err_errno(e, err, "cannot start '%s'", tcp_conn_conf(c)->exec_argv[0]);
	}
	x->pid = pid;
	c->exec = x;
	log_event(LOG_INFO, "exec", "proto=%s peer=%s pid=%d cmd=%s", tcp_conn_conf(c)->name,
		  session_peer(c->s), (int)pid, tcp_conn_conf(c)->exec_argv[0]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	struct event_base *base = loop_base(c->srv->loop);
	x->to_child = bufferevent_socket_new(base, in[1], BEV_OPT_CLOSE_ON_FREE);
	x->from_child = bufferevent_socket_new(base, out[0], BEV_OPT_CLOSE_ON_FREE);
	if (x->to_child == NULL || x->from_child == NULL) {
		if (x->to_child == NULL)
			close(in[1]);
		if (x->from_child == NULL)
			close(out[0]);
		return ik_err_set(e, "out of memory");
	}
	bufferevent_setcb(x->to_child, NULL, on_child_in_written, on_child_in_event, c);
	bufferevent_setcb(x->from_child, on_child_out, NULL, on_child_out_event, c);
	bufferevent_setwatermark(x->from_child, EV_READ, 0, EXEC_PIPE_MAX);
	bufferevent_enable(x->to_child, EV_WRITE);
	bufferevent_enable(x->from_child, EV_READ);
	return 0;
}

static void exec_free(struct tcp_conn *c)
{
	struct tcp_exec *x = c->exec;
	if (x == NULL)
		return;
	exec_close_stdin(x);
	if (x->from_child != NULL)
		bufferevent_free(x->from_child);
	if (x->pid > 0)
		kill(x->pid, SIGTERM);	/* reaped by tcp_exec_reap */
	free(x);
	c->exec = NULL;
}

void tcp_exec_io(struct tcp_conn *c, const struct session_ev *ev)
{
	struct tcp_exec *x = c->exec;
	struct evbuffer *in;
	switch (ev->type) {
	case SESSION_EV_DATA:
		in = session_input(c->s);
		if (x == NULL || x->to_child == NULL) {
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		/* Over the pipe's mark the bytes wait in the session, whose own
		 * limit then stops reading the peer. */
		if (evbuffer_get_length(bufferevent_get_output(x->to_child)) < EXEC_PIPE_MAX)
			evbuffer_add_buffer(bufferevent_get_output(x->to_child), in);
		break;
	case SESSION_EV_DRAINED:
		if (x != NULL && x->from_child != NULL)
			bufferevent_enable(x->from_child, EV_READ);
		break;
	case SESSION_EV_EOF:
		if (x == NULL)
			break;
		x->peer_eof = true;
		if (x->to_child != NULL &&
		    evbuffer_get_length(bufferevent_get_output(x->to_child)) == 0)
			exec_close_stdin(x);
		/* Our side ends when the child's stdout does. */
		if (x->from_child != NULL)
			session_keep_writing(c->s);
		break;
	case SESSION_EV_CLOSED:
		exec_free(c);
		break;
	default:
		break;
	}
}

void tcp_exec_reap(struct tcp_server *srv)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (struct tcp_conn *c = tcp_conn_first(srv); c != NULL; c = tcp_conn_next(c))
			if (c->exec != NULL && c->exec->pid == pid)
				c->exec->pid = 0;
		if (WIFEXITED(st))
			log_event(LOG_INFO, "exec_exit", "proto=%s pid=%d status=%d", tcp_server_conf(srv)->name,
				  (int)pid, WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			log_event(LOG_INFO, "exec_exit", "proto=%s pid=%d signal=%d", tcp_server_conf(srv)->name,
				  (int)pid, WTERMSIG(st));
	}
}
