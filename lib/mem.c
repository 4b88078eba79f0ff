/* mem.c: allocation wrappers; out of memory is a runtime failure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"

static void *check(void *p, size_t n)
{
	if (!p && n)
		usj_die(USJ_EFAIL, "out of memory allocating %zu bytes", n);
	return p;
}

void *xmalloc(size_t n) { return check(malloc(n ? n : 1), n); }
void *xrealloc(void *p, size_t n) { return check(realloc(p, n ? n : 1), n); }

void *xcalloc(size_t count, size_t size)
{
	if (size && count > (size_t)-1 / size)
		usj_die(USJ_EFAIL, "out of memory: %zu x %zu bytes overflows", count, size);
	return check(calloc(count ? count : 1, size ? size : 1), count * size);
}

char *xstrdup(const char *s) { return check(strdup(s), strlen(s) + 1); }

void *xmalloc_aligned(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, n ? n : 1) != 0)
		p = NULL;
	return check(p, n);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		usj_die(USJ_EFAIL, "out of memory formatting a string");
	return s;
}
