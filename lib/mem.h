/* mem.h: allocation that cannot fail silently (runtime failure, exit 1). */
#ifndef USJ_MEM_H
#define USJ_MEM_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* xmalloc_aligned: 64-byte aligned memory, released with free(). */
void *xmalloc_aligned(size_t n);
/* xasprintf: formatted string in new memory. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
