/* A tiny authoritative DNS server for unit tests, on a UDP socket of
 * 127.0.0.1 served by the test's own event loop (RFC 1035 4.1 messages,
 * answers only over UDP). Its table answers:
 *   name listed, type listed        -> NOERROR with those records
 *   name listed, type not listed    -> NOERROR, no answers (NODATA)
 *   name not listed                 -> NXDOMAIN
 *   an entry of type 0 with rcode R -> rcode R to every type (2 = SERVFAIL)
 *   an entry of type 0 with rcode -1-> no answer at all (a time-out)
 * Record data: A "192.0.2.1", AAAA "2001:db8::1", MX "10 mx.example"
 * ("0 ." is a null MX), TXT "one|two" (one record of two strings). */
#ifndef INETKIT_TEST_DNS_FAKE_H
#define INETKIT_TEST_DNS_FAKE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#define FAKE_T_A 1
#define FAKE_T_MX 15
#define FAKE_T_TXT 16
#define FAKE_T_AAAA 28

struct fake_rr {
	const char *name;
	int type;
	int rcode;
	const char *data;
};

struct dns_fake {
	int fd;
	uint16_t port;
	struct event *ev;
	const struct fake_rr *rrs;
	size_t nrrs;
	int queries;
	char servers[32];	/* "127.0.0.1:PORT" for dns_set_servers */
};

static size_t fake_put_name(unsigned char *p, size_t room, const char *name)
{
	size_t o = 0;
	const char *s = name;
	while (*s && strcmp(s, ".") != 0) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (o + l + 2 > room)
			return 0;
		p[o++] = (unsigned char)l;
		memcpy(p + o, s, l);
		o += l;
		s += l;
		if (*s == '.')
			s++;
	}
	if (o + 1 > room)
		return 0;
	p[o++] = 0;
	return o;
}

static size_t fake_rdata(const struct fake_rr *rr, unsigned char *p, size_t room)
{
	if (rr->type == FAKE_T_A) {
		if (room < 4 || inet_pton(AF_INET, rr->data, p) != 1)
			return 0;
		return 4;
	}
	if (rr->type == FAKE_T_AAAA) {
		if (room < 16 || inet_pton(AF_INET6, rr->data, p) != 1)
			return 0;
		return 16;
	}
	if (rr->type == FAKE_T_MX) {
		char *end;
		unsigned long pref = strtoul(rr->data, &end, 10);
		if (*end != ' ' || room < 3)
			return 0;
		const char *host = end + 1;
		p[0] = (unsigned char)(pref >> 8);
		p[1] = (unsigned char)pref;
		size_t n = fake_put_name(p + 2, room - 2, host);
		return n ? n + 2 : 0;
	}
	if (rr->type == FAKE_T_TXT) {
		size_t o = 0;
		const char *s = rr->data;
		for (;;) {
			const char *bar = strchr(s, '|');
			size_t l = bar ? (size_t)(bar - s) : strlen(s);
			if (l > 255 || o + l + 1 > room)
				return 0;
			p[o++] = (unsigned char)l;
			memcpy(p + o, s, l);
			o += l;
			if (!bar)
				break;
			s = bar + 1;
		}
		return o;
	}
	return 0;
}

static void fake_on_query(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct dns_fake *f = arg;
	unsigned char q[512], a[1500];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	if (n < 17)
		return;
	f->queries++;
	char name[256];
	size_t o = 12, no = 0;
	while (o < (size_t)n && q[o] != 0) {
		size_t l = q[o++];
		if (o + l > (size_t)n || no + l + 2 > sizeof(name))
			return;
		if (no)
			name[no++] = '.';
		memcpy(name + no, q + o, l);
		no += l;
		o += l;
	}
	name[no] = '\0';
	if (o + 5 > (size_t)n)
		return;
	o++;
	int qtype = q[o] << 8 | q[o + 1];
	size_t qend = o + 4;
	int rcode = 3;
	size_t nan = 0;
	memcpy(a, q, qend);
	size_t ao = qend;
	for (size_t i = 0; i < f->nrrs; i++) {
		const struct fake_rr *rr = &f->rrs[i];
		if (strcasecmp(rr->name, name) != 0)
			continue;
		if (rr->type == 0) {
			if (rr->rcode < 0)
				return;
			rcode = rr->rcode;
			nan = 0;
			ao = qend;
			break;
		}
		rcode = 0;
		if (rr->type != qtype)
			continue;
		if (ao + 12 > sizeof(a))
			break;
		unsigned char *p = a + ao;
		p[0] = 0xc0;
		p[1] = 12;
		p[2] = (unsigned char)(qtype >> 8);
		p[3] = (unsigned char)qtype;
		p[4] = 0;
		p[5] = 1;
		p[6] = p[7] = p[8] = 0;
		p[9] = 60;
		size_t rl = fake_rdata(rr, p + 12, sizeof(a) - ao - 12);
		if (rl == 0)
			continue;
		p[10] = (unsigned char)(rl >> 8);
		p[11] = (unsigned char)rl;
		ao += 12 + rl;
		nan++;
	}
	a[2] = 0x84 | (q[2] & 0x01);	/* QR, AA, RD copied */
	a[3] = (unsigned char)(0x80 | rcode);
	a[4] = 0;
	a[5] = 1;
	a[6] = (unsigned char)(nan >> 8);
	a[7] = (unsigned char)nan;
	memset(a + 8, 0, 4);
	(void)sendto(fd, a, ao, 0, (struct sockaddr *)&from, fl);
}

static int dns_fake_start(struct dns_fake *f, struct event_base *base, const struct fake_rr *rrs,
			  size_t nrrs)
{
	memset(f, 0, sizeof(*f));
	f->rrs = rrs;
	f->nrrs = nrrs;
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0)
		return -1;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sin);
	if (bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(f->fd, (struct sockaddr *)&sin, &sl) < 0)
		return -1;
	f->port = ntohs(sin.sin_port);
	snprintf(f->servers, sizeof(f->servers), "127.0.0.1:%u", f->port);
	f->ev = event_new(base, f->fd, EV_READ | EV_PERSIST, fake_on_query, f);
	return f->ev ? event_add(f->ev, NULL) : -1;
}

static void dns_fake_stop(struct dns_fake *f)
{
	if (f->ev)
		event_free(f->ev);
	if (f->fd >= 0)
		close(f->fd);
	f->ev = NULL;
	f->fd = -1;
}

#endif
