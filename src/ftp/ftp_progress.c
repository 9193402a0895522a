/* Transfer progress on stderr (only when it is a terminal: the caller
 * decides), for one transfer or a batch of them (mirror), and --limit-rate
 * pacing. No RFC; the format follows what curl and wget users expect:
 * name, percent, bytes, rate, ETA. */
#include "ftp/ftp_client.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/str.h"
#include "core/term.h"
#include "core/timeutil.h"

void ftp_human_bytes(char *buf, size_t sz, double v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		str_fmt(buf, sz, "%.0f %s", v, units[u]);
	else
		str_fmt(buf, sz, "%.1f %s", v, units[u]);
}

static void draw(struct ftp_progress *p, bool final)
{
	double now = time_mono_s();
	double secs = now - p->start;
	double rate = secs > 0 ? (double)(p->done - p->start_done) / secs : 0;
	char done[32], rtext[32], eta[32] = "";
	ftp_human_bytes(done, sizeof done, (double)p->done);
	ftp_human_bytes(rtext, sizeof rtext, rate);
	char pct[8] = "   ";
	if (p->total > 0) {
		str_fmt(pct, sizeof pct, "%3d%%", (int)(p->done * 100 / p->total));
		if (!final && rate > 0 && p->done < p->total) {
			unsigned long s = (unsigned long)((double)(p->total - p->done) / rate);
			str_fmt(eta, sizeof eta, " ETA %02lu:%02lu:%02lu", s / 3600, s / 60 % 60,
				s % 60);
		}
	}
	if (final)
		str_fmt(eta, sizeof eta, " in %.1fs", secs);
	fprintf(stderr, "\r%-30.30s %s %10s %10s/s%s\033[K", p->label, pct, done, rtext, eta);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
	p->last_draw = now;
}

void ftp_progress_begin(struct ftp_progress *p, bool on, const char *label, uint64_t total,
			uint64_t already)
{
	memset(p, 0, sizeof *p);
	p->on = on;
	/* Control bytes in a remote name must not reach the terminal. */
	term_safe_copy(p->label, sizeof p->label, label);
	p->total = total;
	p->done = p->start_done = already;
	p->start = time_mono_s();
}

void ftp_progress_add(struct ftp_progress *p, uint64_t n)
{
	if (p->batch != NULL)
		ftp_batch_add(p->batch, n);
	p->done += n;
	if (p->on && time_mono_s() - p->last_draw >= 0.2)
		draw(p, false);
}

void ftp_progress_end(struct ftp_progress *p)
{
	if (p->on)
		draw(p, true);
}

static void batch_label(struct ftp_batch *b)
{
	str_fmt(b->bar.label, sizeof b->bar.label, "mirror: %zu/%zu files", b->files_done,
		b->files_total);
}

void ftp_batch_begin(struct ftp_batch *b, bool on, size_t files, uint64_t bytes)
{
	memset(b, 0, sizeof *b);
	pthread_mutex_init(&b->mu, NULL);
	ftp_progress_begin(&b->bar, on, "", bytes, 0);
	b->files_total = files;
	batch_label(b);
	/* At once: a terminal shows that the copy has begun. */
	if (on) {
		draw(&b->bar, false);
		b->drawn = true;
	}
}

void ftp_batch_add(struct ftp_batch *b, uint64_t n)
{
	pthread_mutex_lock(&b->mu);
	b->bar.done += n;
	if (b->bar.on && time_mono_s() - b->bar.last_draw >= 0.2) {
		draw(&b->bar, false);
		b->drawn = true;
	}
	pthread_mutex_unlock(&b->mu);
}

void ftp_batch_file_done(struct ftp_batch *b)
{
	pthread_mutex_lock(&b->mu);
	b->files_done++;
	batch_label(b);
	if (b->bar.on && (b->files_done == b->files_total ||
			  time_mono_s() - b->bar.last_draw >= 0.2)) {
		draw(&b->bar, false);
		b->drawn = true;
	}
	pthread_mutex_unlock(&b->mu);
}

static void erase(struct ftp_batch *b)
{
	if (b->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		b->drawn = false;
	}
}

void ftp_batch_say(struct ftp_batch *b, const char *verb, const char *name)
{
	pthread_mutex_lock(&b->mu);
	erase(b);
	fputs(verb, stdout);
	fputc(' ', stdout);
	term_put_safe(stdout, name);
	fputc('\n', stdout);
	fflush(stdout);
	b->bar.last_draw = 0;	/* redrawn with the next bytes */
	pthread_mutex_unlock(&b->mu);
}

void ftp_batch_end(struct ftp_batch *b)
{
	erase(b);
	pthread_mutex_destroy(&b->mu);
}

void ftp_limiter_begin(struct ftp_limiter *l, uint64_t rate)
{
	l->rate = rate;
	l->start = time_mono_s();
	l->sent = 0;
}

void ftp_limiter_wait(struct ftp_limiter *l, uint64_t n)
{
	if (l->rate == 0)
		return;
	l->sent += n;
	double due = l->start + (double)l->sent / (double)l->rate;
	double now = time_mono_s();
	if (due > now) {
		double d = due - now;
		struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
		while (nanosleep(&ts, &ts) < 0)
			;
	}
}
