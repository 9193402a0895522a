/* A scripted peer on loopback for the client core's tests: it accepts one
 * connection, sends its script (repeat times), then records what the
 * client sends until the client closes or stays silent for 3 s. Include
 * after <cmocka.h>. */
#ifndef INETKIT_TESTS_FAKE_PEER_H
#define INETKIT_TESTS_FAKE_PEER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct fake {
	int lfd;
	uint16_t port;
	const char *script;	/* sent after accepting */
	size_t script_len;
	size_t repeat;		/* send the script this many times */
	char got[65536];		/* what the client sent */
	size_t got_len;
	pthread_t th;
};

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	for (size_t i = 0; i < f->repeat; i++) {
		size_t off = 0;
		while (off < f->script_len) {
			ssize_t w = send(fd, f->script + off, f->script_len - off, MSG_NOSIGNAL);
			if (w <= 0)
				goto done;
			off += (size_t)w;
		}
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 3000) <= 0)
			break;
		ssize_t r = read(fd, f->got + f->got_len, sizeof f->got - 1 - f->got_len);
		if (r <= 0)
			break;
		f->got_len += (size_t)r;
	}
done:
	f->got[f->got_len] = '\0';
	close(fd);
	return NULL;
}

static void fake_start(struct fake *f, const char *script, size_t len, size_t repeat)
{
	memset(f, 0, sizeof *f);
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	socklen_t al = sizeof a;
	getsockname(f->lfd, (struct sockaddr *)&a, &al);
	f->port = ntohs(a.sin_port);
	f->script = script;
	f->script_len = len;
	f->repeat = repeat;
	pthread_create(&f->th, NULL, fake_run, f);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	close(f->lfd);
}

#endif
