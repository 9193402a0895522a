/* The ceiling reference for bench/tcp-echo: the smallest correct
 * single-threaded epoll echo server. Level-triggered; a read is written
 * back at once; what the kernel does not take waits in a per-connection
 * buffer with EPOLLOUT and reading paused. No limits, no timeouts, no
 * logging: what is left is the cost of the system calls.
 * Usage: epoll_echo PORT   (binds 127.0.0.1) */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536

struct conn {
	int fd;
	size_t off, len;	/* pending output in buf */
	char buf[BUF];
};

static void set_interest(int ep, struct conn *c, unsigned ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void drop(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: epoll_echo PORT\n");
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)strtoul(argv[1], NULL, 10)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(ls, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(ls, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e);
	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == NULL) {
				for (;;) {
					int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
					if (fd < 0)
						break;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					c = malloc(sizeof *c);
					c->fd = fd;
					c->off = c->len = 0;
					struct epoll_event ce = {.events = EPOLLIN, .data.ptr = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
				}
				continue;
			}
			if (c->len > 0) {	/* EPOLLOUT: finish the pending write */
				ssize_t w = write(c->fd, c->buf + c->off, c->len);
				if (w < 0 && errno != EAGAIN) {
					drop(ep, c);
					continue;
				}
				if (w > 0) {
					c->off += (size_t)w;
					c->len -= (size_t)w;
				}
				if (c->len == 0)
					set_interest(ep, c, EPOLLIN);
				continue;
			}
			ssize_t r = read(c->fd, c->buf, BUF);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				drop(ep, c);
				continue;
			}
			ssize_t w = write(c->fd, c->buf, (size_t)r);
			if (w < 0) {
				if (errno != EAGAIN) {
					drop(ep, c);
					continue;
				}
				w = 0;
			}
			if (w < r) {
				c->off = (size_t)w;
				c->len = (size_t)(r - w);
				set_interest(ep, c, EPOLLOUT);
			}
		}
	}
}
