/* test_metrics.c: lib/metrics against scikit-learn 1.2 (tests/ref/metrics_ref.py)
 * on fixed random predictions, to 1e-9: accuracy, balanced accuracy, macro
 * and per-class F1, one-vs-rest AUROC with ties, the confusion matrix; NaN
 * exactly where scikit-learn leaves a class out. */
#include <math.h>
#include <stdlib.h>

#include "metrics.h"
#include "test.h"

#define PYTHON "/usr/bin/python3"
#define SCRIPT "tests/ref/metrics_ref.py"

static double max_err;

/* same: a and b equal to 1e-9, or both NaN */
static int same(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	max_err = worse(max_err, fabs(a - b));
	return fabs(a - b) <= 1e-9;
}

static double field(const usj_record *r, const char *key)
{
	double v = NAN;
	CHECK(usj_record_double(r, key, &v) == 0);
	return v;
}

static void check_case(const usj_record *r)
{
	int64_t C = 0;
	CHECK(usj_record_int(r, "C", &C) == 0);
	const usj_tensor *y = usj_record_tensor(r, "y"), *pred = usj_record_tensor(r, "pred"),
	                 *prob = usj_record_tensor(r, "prob"), *f1 = usj_record_tensor(r, "per_class_f1"),
	                 *auroc = usj_record_tensor(r, "auroc"), *conf = usj_record_tensor(r, "confusion");
	CHECK(y && pred && prob && f1 && auroc && conf);
	if (!y || !pred || !prob || !f1 || !auroc || !conf)
		return;
	CHECK(y->dtype == USJ_I4 && pred->dtype == USJ_I4 && prob->dtype == USJ_F8 && conf->dtype == USJ_I8);
	usj_metrics m;
	usj_metrics_compute(&m, y->data, pred->data, prob->data, y->count, (int)C);
	CHECK(same(m.accuracy, field(r, "accuracy")));
	CHECK(same(m.balanced_accuracy, field(r, "balanced_accuracy")));
	CHECK(same(m.macro_f1, field(r, "macro_f1")));
	CHECK(same(m.macro_auroc, field(r, "macro_auroc")));
	for (int k = 0; k < C; k++) {
		CHECK(same(m.per_class_f1[k], ((const double *)f1->data)[k]));
		CHECK(same(m.auroc[k], ((const double *)auroc->data)[k]));
	}
	for (int64_t i = 0; i < C * C; i++)
		CHECK(m.confusion[i] == ((const int64_t *)conf->data)[i]);
	usj_metrics_free(&m);
}

static void test_against_sklearn(void)
{
	if (system(PYTHON " -c 'import sklearn, msgpack_numpy' 2>/dev/null") != 0) {
		fprintf(stderr, "# " PYTHON " cannot import sklearn: run 'make deps' to install python3-sklearn\n");
		CHECK(0);
		return;
	}
	char *out = test_path("ref.usj"), *cmd = xasprintf("%s %s %s", PYTHON, SCRIPT, out);
	CHECK(system(cmd) == 0);
	usj_reader *in = usj_reader_open(out);
	CHECK(in && usj_reader_start(in) == 0);
	usj_record r;
	usj_record_init(&r);
	int cases = 0;
	while (in && usj_reader_next(in, &r) == 1) {
		check_case(&r);
		cases++;
	}
	CHECK(cases == 13);
	printf("# %d cases, largest difference from scikit-learn %.3g\n", cases, max_err);
	usj_record_free(&r);
	if (in)
		usj_reader_close(in);
	free(out), free(cmd);
}

/* perfect predictions score 1 everywhere; an empty set is NaN, not a crash */
static void test_perfect_and_empty(void)
{
	int32_t y[6] = {0, 1, 2, 0, 1, 2};
	double prob[18];
	for (int i = 0; i < 6; i++)
		for (int k = 0; k < 3; k++)
			prob[i * 3 + k] = k == y[i] ? 0.8 : 0.1;
	usj_metrics m;
	usj_metrics_compute(&m, y, y, prob, 6, 3);
	CHECK(m.accuracy == 1 && m.balanced_accuracy == 1 && m.macro_f1 == 1 && m.macro_auroc == 1);
	CHECK(m.confusion[0] == 2 && m.confusion[1] == 0 && m.confusion[4] == 2);
	usj_metrics_free(&m);
	usj_metrics_compute(&m, y, y, prob, 0, 3);
	CHECK(isnan(m.accuracy) && isnan(m.macro_f1) && isnan(m.macro_auroc) && isnan(m.auroc[1]));
	usj_metrics_free(&m);
}

int main(void)
{
	test_scratch_make();
	RUN(test_against_sklearn);
	RUN(test_perfect_and_empty);
	return TEST_DONE();
}
