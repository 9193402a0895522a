/* Following a command's sockets to their ports (see watch.h). Linux
 * only: ptrace(2) with PTRACE_O_TRACESECCOMP, seccomp(2) filters, proc(5)
 * socket tables. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/str.h"
#include "trace/watch.h"

#if defined(__x86_64__)
#define WATCH_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define WATCH_ARCH AUDIT_ARCH_AARCH64
#endif

#define TIDS_MAX 1024
#define INODES_MAX 4096
#define KNOWN_MAX 1024

struct tr_watch {
	pid_t main;
	bool done;
	int status;
	int sfd;
	sigset_t old_mask;
	pid_t tid[TIDS_MAX];
	size_t ntid;
	uint8_t ports[2][65536 / 8];	/* [0] TCP, [1] UDP */
	/* Sockets whose port is known: the socket tables (thousands of
	 * lines on a busy host) are read only for a socket not yet known. */
	unsigned long known[KNOWN_MAX];
	size_t nknown, known_next;
};

static bool is_known(const struct tr_watch *w, unsigned long ino)
{
	for (size_t i = 0; i < w->nknown; i++)
		if (w->known[i] == ino)
			return true;
	return false;
}

static void add_known(struct tr_watch *w, unsigned long ino)
{
	w->known[w->known_next % KNOWN_MAX] = ino;
	w->known_next++;
	if (w->nknown < KNOWN_MAX)
		w->nknown++;
}

static void add_tid(struct tr_watch *w, pid_t t)
{
	for (size_t i = 0; i < w->ntid; i++)
		if (w->tid[i] == t)
			return;
	if (w->ntid < TIDS_MAX)
		w->tid[w->ntid++] = t;
}

static void del_tid(struct tr_watch *w, pid_t t)
{
	for (size_t i = 0; i < w->ntid; i++)
		if (w->tid[i] == t) {
			w->tid[i] = w->tid[--w->ntid];
			return;
		}
}

bool tr_watch_port(const struct tr_watch *w, uint8_t proto, uint16_t port)
{
	int k = proto == 6 ? 0 : proto == 17 ? 1 : -1;
	return k >= 0 && (w->ports[k][port / 8] & (1u << (port % 8))) != 0;
}

/* "socket:[12345]" -> 12345, or 0. */
static unsigned long socket_inode(const char *link)
{
	if (!str_has_prefix(link, "socket:["))
		return 0;
	unsigned long v = 0;
	for (const char *p = link + 8; *p != ']'; p++) {
		if (*p < '0' || *p > '9' || v > 0xffffffffffffUL)
			return 0;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v;
}

/* Field n (0-based, split on spaces) of line, copied into out. */
static bool field(const char *line, int n, char *out, size_t outsz)
{
	const char *p = line;
	for (int i = 0;; i++) {
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\n')
			return false;
		const char *e = p;
		while (*e != ' ' && *e != '\0' && *e != '\n')
			e++;
		if (i == n) {
			size_t len = (size_t)(e - p);
			if (len >= outsz)
				return false;
			memcpy(out, p, len);
			out[len] = '\0';
			return true;
		}
		p = e;
	}
}

/* Marks the local port of every socket in /proc/PID/net/{tcp,udp}{,6}
 * whose inode is in inodes. */
static void mark_ports(struct tr_watch *w, pid_t pid, const unsigned long *inodes, size_t n)
{
	static const char *const files[] = {"tcp", "tcp6", "udp", "udp6"};
	for (size_t f = 0; f < 4; f++) {
		char path[64];
		str_fmt(path, sizeof path, "/proc/%d/net/%s", (int)pid, files[f]);
		FILE *fp = fopen(path, "r");
		if (fp == NULL)
			continue;
		static char big[1 << 16];
		setvbuf(fp, big, _IOFBF, sizeof big);
		char line[512];
		while (fgets(line, sizeof line, fp) != NULL) {
			char local[80], ino[32];
			if (!field(line, 1, local, sizeof local) || !field(line, 9, ino, sizeof ino))
				continue;
			uint64_t inode;
			if (str_to_u64(ino, UINT64_MAX, &inode) < 0 || inode == 0)
				continue;
			bool mine = false;
			for (size_t i = 0; i < n && !mine; i++)
				mine = inodes[i] == inode;
			if (!mine)
				continue;
			char *colon = strrchr(local, ':');
			if (colon == NULL)
				continue;
			unsigned port = 0;
			for (const char *h = colon + 1; *h; h++) {
				int d = str_hex_digit(*h);
				if (d < 0 || port > 0xffff)
					break;
				port = port * 16 + (unsigned)d;
			}
			if (port > 0 && port <= 0xffff) {
				w->ports[f / 2][port / 8] |= (uint8_t)(1u << (port % 8));
				add_known(w, (unsigned long)inode);
			}
		}
		fclose(fp);
	}
}

/* Adds the sockets not yet known of one thread's file table (fd < 0), or
 * of one fd, to inodes[*n]. */
static void collect(struct tr_watch *w, pid_t tid, long fd, unsigned long *inodes, size_t *np)
{
	size_t n = *np;
	char path[80], link[128];
	if (fd >= 0) {
		str_fmt(path, sizeof path, "/proc/%d/fd/%ld", (int)tid, fd);
		ssize_t l = readlink(path, link, sizeof link - 1);
		if (l <= 0)
			return;
		link[l] = '\0';
		unsigned long ino = socket_inode(link);
		if (ino != 0 && !is_known(w, ino) && n < INODES_MAX)
			inodes[n++] = ino;
	} else {
		str_fmt(path, sizeof path, "/proc/%d/fd", (int)tid);
		DIR *d = opendir(path);
		if (d == NULL)
			return;
		struct dirent *de;
		while ((de = readdir(d)) != NULL && n < INODES_MAX) {
			char p2[128];
			if (de->d_name[0] == '.')
				continue;
			str_fmt(p2, sizeof p2, "%s/%s", path, de->d_name);
			ssize_t l = readlink(p2, link, sizeof link - 1);
			if (l <= 0)
				continue;
			link[l] = '\0';
			unsigned long ino = socket_inode(link);
			if (ino != 0 && !is_known(w, ino))
				inodes[n++] = ino;
		}
		closedir(d);
	}
	*np = n;
}

static void scan_tid(struct tr_watch *w, pid_t tid, long fd)
{
	static unsigned long inodes[INODES_MAX];
	size_t n = 0;
	collect(w, tid, fd, inodes, &n);
	if (n > 0)
		mark_ports(w, tid, inodes, n);
}

void tr_watch_scan(struct tr_watch *w)
{
	static unsigned long inodes[INODES_MAX];
	size_t n = 0;
	for (size_t i = 0; i < w->ntid; i++)
		collect(w, w->tid[i], -1, inodes, &n);
	if (n > 0 && w->ntid > 0)
		mark_ports(w, w->tid[0], inodes, n);
}

/* In the child: stop at close(2) and close_range(2) for the tracer. */
static int install_filter(void)
{
#ifdef WATCH_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, WATCH_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close_range, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
	};
	struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0)
		return 0;
	/* Without CAP_SYS_ADMIN a filter needs no_new_privs. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#else
	return 0;	/* no filter: the periodic scans alone */
#endif
}

int tr_watch_start(char **argv, struct tr_watch **out, ik_err *e)
{
	struct tr_watch *w = calloc(1, sizeof *w);
	if (w == NULL)
		return ik_err_set(e, "out of memory");
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &w->old_mask);
	w->sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (w->sfd < 0) {
		sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
		free(w);
		return ik_err_errno(e, errno, "signalfd");
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(w->sfd);
		sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
		free(w);
		return ik_err_errno(e, err, "fork");
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
			fprintf(stderr, "inetkit trace: cannot follow the command (ptrace: %s)\n",
				strerror(errno));
			_exit(127);
		}
		raise(SIGSTOP);
		if (install_filter() < 0) {
			fprintf(stderr, "inetkit trace: seccomp filter: %s\n", strerror(errno));
			_exit(127);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "inetkit trace: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	w->main = pid;
	int st;
	if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st)) {
		tr_watch_free(w);
		return ik_err_set(e, "the command did not start under the tracer");
	}
	long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEEXIT | PTRACE_O_TRACECLONE |
		    PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC;
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)opts) < 0) {
		int err = errno;
		kill(pid, SIGKILL);
		tr_watch_free(w);
		return ik_err_errno(e, err, "ptrace options");
	}
	add_tid(w, pid);
	*out = w;
	return 0;
}

int tr_watch_go(struct tr_watch *w, ik_err *e)
{
	if (ptrace(PTRACE_CONT, w->main, NULL, NULL) < 0)
		return ik_err_errno(e, errno, "ptrace continue");
	return 0;
}

int tr_watch_fd(const struct tr_watch *w)
{
	return w->sfd;
}

static void seccomp_stop(struct tr_watch *w, pid_t tid)
{
	struct __ptrace_syscall_info info;
	memset(&info, 0, sizeof info);
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof info, &info);
	if (n > 0 && info.op == PTRACE_SYSCALL_INFO_SECCOMP && info.seccomp.nr == __NR_close &&
	    info.seccomp.args[0] < 0x7fffffff)
		scan_tid(w, tid, (long)info.seccomp.args[0]);
	else
		scan_tid(w, tid, -1);
}

void tr_watch_service(struct tr_watch *w)
{
	struct signalfd_siginfo si;
	while (read(w->sfd, &si, sizeof si) == (ssize_t)sizeof si)
		;
	for (;;) {
		int st;
		pid_t tid = waitpid(-1, &st, WNOHANG | __WALL);
		if (tid <= 0)
			return;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			del_tid(w, tid);
			if (tid == w->main) {
				w->done = true;
				w->status = st;
			}
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), event = st >> 16;
		long deliver = 0;
		add_tid(w, tid);
		if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
			seccomp_stop(w, tid);
		} else if (sig == SIGTRAP && event == PTRACE_EVENT_EXIT) {
			scan_tid(w, tid, -1);	/* its files are still open here */
		} else if (sig == SIGTRAP && (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
					      event == PTRACE_EVENT_CLONE)) {
			unsigned long child = 0;
			if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &child) == 0)
				add_tid(w, (pid_t)child);
		} else if (sig == SIGTRAP || sig == SIGSTOP) {
			/* exec, or a new child's first stop: nothing to pass on */
		} else {
			deliver = sig;
		}
		ptrace(PTRACE_CONT, tid, NULL, (void *)deliver);
	}
}

bool tr_watch_done(const struct tr_watch *w, int *status)
{
	if (w->done && status != NULL)
		*status = w->status;
	return w->done;
}

void tr_watch_free(struct tr_watch *w)
{
	if (w == NULL)
		return;
	if (!w->done && w->main > 0) {
		kill(w->main, SIGKILL);
		int st;
		waitpid(w->main, &st, __WALL);
	}
	close(w->sfd);
	sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
	free(w);
}
