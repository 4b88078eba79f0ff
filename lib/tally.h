/* tally.h: counts of distinct strings (labels, splits), in first-seen order. */
#ifndef USJ_TALLY_H
#define USJ_TALLY_H
#include <stdint.h>

typedef struct usj_tally {
	char **names;
	int64_t *counts;
	int n, cap;
} usj_tally;

/* usj_tally_add: count one more of name; returns its index. */
int usj_tally_add(usj_tally *t, const char *name, int64_t k);
int usj_tally_find(const usj_tally *t, const char *name); /* index or -1 */
void usj_tally_free(usj_tally *t);

#endif
