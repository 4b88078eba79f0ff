/* split.c: greedy grouped stratified splitting. Groups are placed largest
 * first (ties in a seeded random order) into the split where they most
 * reduce the squared shortfall of each class against its target count,
 * each class weighted by its rarity. */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "rng.h"
#include "split.h"

static const char *const split_names[3] = {"train", "val", "test"};

typedef struct group {
	int first, size; /* a run in the sorted index */
	uint64_t order;  /* random tie-break */
} group;

static const usj_manifest *sort_m;

static const char *group_key(const usj_item *it) { return it->group ? it->group : it->path; }

static int cmp_items(const void *a, const void *b)
{
	const usj_item *x = &sort_m->items[*(const int *)a], *y = &sort_m->items[*(const int *)b];
	int c = strcmp(group_key(x), group_key(y));
	/* ungrouped images form their own groups, never joining a named one */
	return c ? c : (x->group != NULL) - (y->group != NULL);
}

static int cmp_groups(const void *a, const void *b)
{
	const group *x = a, *y = b;
	if (x->size != y->size)
		return y->size - x->size;
	return (x->order > y->order) - (x->order < y->order);
}

/* assign: split the items idx[0..n) into nsplit splits (ids[]) with fractions frac[]. */
static void assign(usj_manifest *m, int *idx, int n, const int *ids, const double *frac, int nsplit, usj_rng *rng)
{
	int K = m->nclasses + 1; /* the last column counts unlabelled items */
	sort_m = m;
	qsort(idx, (size_t)n, sizeof *idx, cmp_items);
	group *groups = xmalloc((size_t)n * sizeof *groups);
	int ng = 0;
	for (int i = 0; i < n; i++) {
		if (i == 0 || cmp_items(&idx[i - 1], &idx[i]) != 0)
			groups[ng++] = (group){.first = i, .size = 0};
		groups[ng - 1].size++;
	}
	for (int g = 0; g < ng; g++)
		groups[g].order = usj_rng_u64(rng);
	qsort(groups, (size_t)ng, sizeof *groups, cmp_groups);

	double *total = xcalloc((size_t)K, sizeof *total);
	double *have = xcalloc((size_t)(nsplit * K), sizeof *have); /* (nsplit, K) */
	double *mine = xcalloc((size_t)K, sizeof *mine);
	for (int i = 0; i < n; i++) {
		int c = m->items[idx[i]].label_index;
		total[c < 0 ? K - 1 : c] += 1;
	}
	for (int g = 0; g < ng; g++) {
		memset(mine, 0, (size_t)K * sizeof *mine);
		for (int i = groups[g].first; i < groups[g].first + groups[g].size; i++) {
			int c = m->items[idx[i]].label_index;
			mine[c < 0 ? K - 1 : c] += 1;
		}
		int best = -1;
		double best_cost = 0;
		for (int s = 0; s < nsplit; s++) {
			if (frac[s] <= 0)
				continue;
			double cost = 0;
			for (int c = 0; c < K; c++)
				if (mine[c] > 0) {
					double shortfall = have[s * K + c] - frac[s] * total[c];
					cost += mine[c] * (2 * shortfall + mine[c]) / total[c];
				}
			if (best < 0 || cost < best_cost) {
				best = s;
				best_cost = cost;
			}
		}
		for (int c = 0; c < K; c++)
			have[best * K + c] += mine[c];
		for (int i = groups[g].first; i < groups[g].first + groups[g].size; i++) {
			usj_item *it = &m->items[idx[i]];
			free(it->split);
			it->split = xstrdup(split_names[ids[best]]);
		}
	}
	free(groups);
	free(total);
	free(have);
	free(mine);
}

void usj_assign_splits(usj_manifest *m, const double frac[3], uint64_t seed)
{
	usj_rng rng;
	usj_rng_seed(&rng, seed);
	int *idx = xmalloc((size_t)m->n * sizeof *idx);
	int n = 0;
	for (int i = 0; i < m->n; i++)
		if (!m->items[i].split)
			idx[n++] = i;
	if (n) {
		static const int ids[3] = {0, 1, 2};
		assign(m, idx, n, ids, frac, 3, &rng);
	}
	n = 0;
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->items[i].split, "train_val") == 0)
			idx[n++] = i;
	if (n) {
		static const int ids[2] = {0, 1};
		double sum = frac[0] + frac[1];
		double two[2] = {sum > 0 ? frac[0] / sum : 1, sum > 0 ? frac[1] / sum : 0};
		assign(m, idx, n, ids, two, 2, &rng);
	}
	free(idx);
}
