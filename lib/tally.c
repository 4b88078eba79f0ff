/* tally.c: string counts; linear search, as the sets are small (classes, splits). */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "tally.h"

int usj_tally_find(const usj_tally *t, const char *name)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->names[i], name) == 0)
			return i;
	return -1;
}

int usj_tally_add(usj_tally *t, const char *name, int64_t k)
{
	int i = usj_tally_find(t, name);
	if (i < 0) {
		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 8;
			t->names = xrealloc(t->names, (size_t)t->cap * sizeof *t->names);
			t->counts = xrealloc(t->counts, (size_t)t->cap * sizeof *t->counts);
		}
		i = t->n++;
		t->names[i] = xstrdup(name);
		t->counts[i] = 0;
	}
	t->counts[i] += k;
	return i;
}

void usj_tally_free(usj_tally *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	free(t->counts);
	memset(t, 0, sizeof *t);
}
