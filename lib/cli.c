/* cli.c: shared option parsing. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"

int64_t usj_cli_int(const char *synopsis, const char *opt, const char *text, int64_t min, int64_t max)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		usj_usage_error(synopsis, "%s wants an integer from %lld to %lld, not '%s'", opt,
		                (long long)min, (long long)max, text);
	return v;
}

double usj_cli_double(const char *synopsis, const char *opt, const char *text, double min, double max)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !(v >= min && v <= max))
		usj_usage_error(synopsis, "%s wants a number from %g to %g, not '%s'", opt, min, max, text);
	return v;
}

void usj_cli_shard(const char *synopsis, const char *text, int *k, int *n)
{
	char *end;
	long a = strtol(text, &end, 10);
	long b = *end == '/' ? strtol(end + 1, &end, 10) : 0;
	if (*end || b < 1 || b > 1000000 || a < 0 || a >= b)
		usj_usage_error(synopsis, "--shard wants K/N with 0 <= K < N, not '%s'", text);
	*k = (int)a;
	*n = (int)b;
}

int usj_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

int usj_cli_threads(const char *synopsis, const char *text)
{
	int j = (int)usj_cli_int(synopsis, "-j", text, 0, 1024);
	return j ? j : usj_cores();
}

void usj_cli_split(const char *synopsis, const char *opt, const char *text, double frac[3])
{
	double v[3];
	char tail;
	if (sscanf(text, "%lf,%lf,%lf%c", &v[0], &v[1], &v[2], &tail) != 3 || !(v[0] >= 0) || !(v[1] >= 0) ||
	    !(v[2] >= 0) || !(v[0] + v[1] + v[2] > 0) || !isfinite(v[0] + v[1] + v[2]))
		usj_usage_error(synopsis, "%s wants three non-negative numbers A,B,C, not '%s'", opt, text);
	for (int s = 0; s < 3; s++)
		frac[s] = v[s] / (v[0] + v[1] + v[2]);
}

const char *usj_cli_splits(const char *synopsis, const char *opt, const char *text)
{
	for (const char *p = text;;) {
		size_t len = strcspn(p, ",");
		char item[8];
		snprintf(item, sizeof item, "%.*s", (int)len, p);
		if (len >= sizeof item || !usj_in_list("train,val,test", item))
			usj_usage_error(synopsis, "%s wants train, val or test, comma-separated, not '%s'", opt, text);
		if (!p[len])
			return text;
		p += len + 1;
	}
}

int usj_in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !strncmp(p, name, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}
