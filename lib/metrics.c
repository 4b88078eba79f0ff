/* metrics.c: confusion counts first; every metric but AUROC follows from
 * them. AUROC sorts each class's scores once and sums average ranks. */
#include <math.h>
#include <stdlib.h>

#include "mem.h"
#include "metrics.h"

typedef struct scored {
	double s;
	int pos;
} scored;

static int by_score(const void *a, const void *b)
{
	double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
	return (x > y) - (x < y);
}

/* auroc_one: the Mann-Whitney statistic of the positives' scores, ties at
 * their average rank; NaN without a positive or a negative. Sorts v (n). */
static double auroc_one(scored *v, int64_t n)
{
	qsort(v, (size_t)n, sizeof *v, by_score);
	double rank_sum = 0;
	int64_t P = 0;
	for (int64_t i = 0; i < n;) {
		int64_t j = i, pos = 0;
		while (j < n && v[j].s == v[i].s)
			pos += v[j++].pos;
		rank_sum += (double)pos * 0.5 * (double)(i + 1 + j); /* ranks i+1 .. j, averaged */
		P += pos;
		i = j;
	}
	int64_t N = n - P;
	if (P == 0 || N == 0)
		return NAN;
	return (rank_sum - 0.5 * (double)P * (double)(P + 1)) / ((double)P * (double)N);
}

void usj_metrics_compute(usj_metrics *m, const int32_t *y, const int32_t *pred, const double *prob,
                         int64_t n, int C)
{
	// y (n), pred (n), prob (n, C)
	m->C = C;
	m->n = n;
	m->per_class_f1 = xmalloc((size_t)C * sizeof(double));
	m->auroc = xmalloc((size_t)C * sizeof(double));
	m->confusion = xcalloc((size_t)C * C, sizeof(int64_t));
	for (int64_t i = 0; i < n; i++)
		m->confusion[(int64_t)y[i] * C + pred[i]]++;
	int64_t correct = 0;
	int f1_classes = 0, recall_classes = 0;
	double f1_sum = 0, recall_sum = 0;
	for (int k = 0; k < C; k++) {
		int64_t tp = m->confusion[(int64_t)k * C + k], true_k = 0, pred_k = 0;
		for (int j = 0; j < C; j++) {
			true_k += m->confusion[(int64_t)k * C + j];
			pred_k += m->confusion[(int64_t)j * C + k];
		}
		correct += tp;
		if (true_k + pred_k == 0) {
			m->per_class_f1[k] = NAN;
			continue;
		}
		m->per_class_f1[k] = 2.0 * (double)tp / (double)(true_k + pred_k);
		f1_sum += m->per_class_f1[k];
		f1_classes++;
		if (true_k) {
			recall_sum += (double)tp / (double)true_k;
			recall_classes++;
		}
	}
	m->accuracy = n ? (double)correct / (double)n : NAN;
	m->macro_f1 = f1_classes ? f1_sum / f1_classes : NAN;
	m->balanced_accuracy = recall_classes ? recall_sum / recall_classes : NAN;
	scored *v = xmalloc((size_t)(n ? n : 1) * sizeof *v);
	int auroc_classes = 0;
	double auroc_sum = 0;
	for (int k = 0; k < C; k++) {
		for (int64_t i = 0; i < n; i++)
			v[i] = (scored){prob[i * C + k], y[i] == k};
		m->auroc[k] = auroc_one(v, n);
		if (!isnan(m->auroc[k])) {
			auroc_sum += m->auroc[k];
			auroc_classes++;
		}
	}
	free(v);
	m->macro_auroc = auroc_classes ? auroc_sum / auroc_classes : NAN;
}

void usj_metrics_free(usj_metrics *m)
{
	free(m->per_class_f1);
	free(m->auroc);
	free(m->confusion);
}
