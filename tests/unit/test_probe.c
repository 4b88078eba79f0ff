/* test_probe.c: few-shot subsets (sizes per class, nesting, seeds) and the
 * probe's training (separable classes learnt, the best epoch kept, the same
 * bits for the same seed) on features built in memory. */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "pool.h"
#include "probe.h"
#include "rng.h"
#include "test.h"

enum { C = 3, D = 4 };
static const int TRAIN[C] = {50, 20, 3}; /* training records a class; 10 val and 10 test each */

/* make: class k at 4 e_k plus standard normal noise, in split order */
static void make(usj_features *f)
{
	memset(f, 0, sizeof *f);
	f->D = D, f->C = C;
	f->n = TRAIN[0] + TRAIN[1] + TRAIN[2] + 2 * 10 * C;
	f->x = xmalloc((size_t)f->n * D * sizeof *f->x);
	f->y = xmalloc((size_t)f->n * sizeof *f->y);
	f->split = xmalloc((size_t)f->n);
	f->classes = xcalloc(C, sizeof *f->classes);
	f->name = xstrdup("memory");
	usj_rng rng;
	usj_rng_seed(&rng, 7);
	int64_t i = 0;
	for (int s = USJ_SPLIT_TRAIN; s <= USJ_SPLIT_TEST; s++)
		for (int k = 0; k < C; k++)
			for (int j = 0; j < (s == USJ_SPLIT_TRAIN ? TRAIN[k] : 10); j++, i++) {
				for (int d = 0; d < D; d++)
					f->x[i * D + d] = (float)usj_rng_normal(&rng) + (d == k ? 4.0f : 0.0f);
				f->y[i] = k;
				f->split[i] = (uint8_t)s;
			}
	for (int k = 0; k < C; k++)
		f->classes[k] = xasprintf("c%d", k);
}

static int64_t count_class(const usj_features *f, const int64_t *idx, int64_t n, int k)
{
	int64_t c = 0;
	for (int64_t i = 0; i < n; i++)
		c += f->y[idx[i]] == k && f->split[idx[i]] == USJ_SPLIT_TRAIN;
	return c;
}

static void test_subsets(void)
{
	usj_features f;
	make(&f);
	int64_t a[200], b[200], c[200];
	int64_t na = usj_probe_subset(a, &f, 10, 0), nb = usj_probe_subset(b, &f, 50, 0);
	/* max(1, round(p n_c / 100)): 5, 2, 1 at 10 %; 25, 10, 2 at 50 % */
	CHECK(na == 8 && count_class(&f, a, na, 0) == 5 && count_class(&f, a, na, 1) == 2 && count_class(&f, a, na, 2) == 1);
	CHECK(nb == 37 && count_class(&f, b, nb, 0) == 25 && count_class(&f, b, nb, 1) == 10 && count_class(&f, b, nb, 2) == 2);
	for (int64_t i = 0; i < na; i++) { /* nested, ascending */
		int found = 0;
		for (int64_t j = 0; j < nb; j++)
			found |= b[j] == a[i];
		CHECK(found);
		CHECK(i == 0 || a[i] > a[i - 1]);
	}
	CHECK(usj_probe_subset(c, &f, 100, 3) == 73);
	int64_t na2 = usj_probe_subset(c, &f, 10, 0);
	CHECK(na2 == na && memcmp(a, c, (size_t)na * sizeof *a) == 0);
	usj_probe_subset(c, &f, 10, 1);
	CHECK(memcmp(a, c, (size_t)na * sizeof *a) != 0);
	usj_features_free(&f);
}

static void test_training(void)
{
	usj_features f;
	make(&f);
	int64_t train[200], val[40], test[40];
	int64_t ntrain = usj_features_select(train, &f, USJ_SPLIT_TRAIN), nval = usj_features_select(val, &f, USJ_SPLIT_VAL),
	        ntest = usj_features_select(test, &f, USJ_SPLIT_TEST);
	CHECK(ntrain == 73 && nval == 30 && ntest == 30);
	usj_probe_config cfg = {.epochs = 200, .patience = 200, .batch = 8, .lr = 0.01, .wd = 1e-4};
	usj_probe p, q;
	usj_probe_train(&p, &cfg, &f, train, ntrain, val, nval, 1);
	CHECK(p.epochs == 200 && p.best_epoch > 100);
	double prob[30 * C];
	int32_t pred[30], y[30];
	usj_probe_predict(&p, prob, pred, &f, test, ntest);
	for (int i = 0; i < 30; i++)
		y[i] = f.y[test[i]];
	usj_metrics m;
	usj_metrics_compute(&m, y, pred, prob, ntest, C);
	CHECK(m.accuracy == 1.0);
	usj_metrics_free(&m);
	usj_probe_train(&q, &cfg, &f, train, ntrain, val, nval, 1);
	CHECK(memcmp(p.ps.w, q.ps.w, (size_t)p.ps.total * sizeof(float)) == 0);
	usj_probe_free(&q);
	/* patience 3 with a learning rate that overshoots: an early stop that keeps its best epoch */
	cfg = (usj_probe_config){.epochs = 200, .patience = 3, .batch = 8, .lr = 5, .wd = 0};
	usj_probe_train(&q, &cfg, &f, train, ntrain, val, nval, 2);
	CHECK(q.epochs < 200 && q.epochs == q.best_epoch + 3);
	usj_probe_free(&q);
	usj_probe_free(&p);
	usj_features_free(&f);
}

int main(void)
{
	usj_pool_init(1);
	RUN(test_subsets);
	RUN(test_training);
	return TEST_DONE();
}
