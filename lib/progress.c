/* progress.c: at most a few updates a second, to standard error. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "progress.h"

double usj_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void usj_progress_start(usj_progress *p, const char *what, int64_t total)
{
	p->what = what;
	p->total = total;
	p->start = p->last = usj_now();
	p->on = isatty(STDERR_FILENO);
	p->note[0] = 0;
}

static void show(usj_progress *p, int64_t done, double now, const char *end)
{
	double rate = done / (now - p->start > 1e-9 ? now - p->start : 1e-9);
	fprintf(stderr, "\r%s: %lld", usj_prog, (long long)done);
	if (p->total)
		fprintf(stderr, "/%lld", (long long)p->total);
	fprintf(stderr, " %s, %.1f/s", p->what, rate);
	if (p->note[0])
		fprintf(stderr, ", %s", p->note);
	if (p->total && done < p->total && rate > 0)
		fprintf(stderr, ", %.0f s left", (double)(p->total - done) / rate);
	fprintf(stderr, "\033[K%s", end);
}

void usj_progress_update(usj_progress *p, int64_t done)
{
	if (!p->on)
		return;
	double now = usj_now();
	if (now - p->last < 0.25)
		return;
	p->last = now;
	show(p, done, now, "");
}

void usj_progress_end(usj_progress *p, int64_t done)
{
	if (p->on)
		show(p, done, usj_now(), "\n");
}
