/* metrics.h: classification metrics as scikit-learn 1.2 computes them, for
 * linear probes. n samples, C classes; labels are 0..C-1. */
#ifndef USJ_METRICS_H
#define USJ_METRICS_H
#include <stdint.h>

typedef struct usj_metrics {
	int C;
	int64_t n;
	double accuracy;          /* accuracy_score */
	double balanced_accuracy; /* balanced_accuracy_score: mean recall over classes in y_true */
	double macro_f1;          /* f1_score(average='macro', zero_division=0) */
	double macro_auroc;       /* roc_auc_score(multi_class='ovr', average='macro'), over classes in y_true */
	double *per_class_f1;     /* (C) F1 of each class; NaN for a class neither true nor predicted */
	double *auroc;            /* (C) one-vs-rest AUROC; NaN for a class absent from y_true */
	int64_t *confusion;       /* (C, C) rows true, columns predicted: confusion_matrix(labels=0..C-1) */
} usj_metrics;

/* usj_metrics_compute: every metric of predictions pred (n) and class
 * probabilities prob (n, C) against the truth y (n), into m (arrays
 * allocated here; free with usj_metrics_free).
 * - F1 of a class is 2 TP / (2 TP + FP + FN), 0 when it is predicted but
 *   never true or true but never predicted (zero_division=0); macro_f1 is
 *   the mean over the classes that are true or predicted at least once,
 *   which is what f1_score does when not given labels.
 * - AUROC of class k ranks prob[:, k] of the samples of class k against the
 *   rest, ties counting one half (sklearn's trapezoid over average ranks);
 *   macro_auroc is the mean over the classes in y that have at least one
 *   sample outside them too, NaN if there are none (sklearn refuses such
 *   sets; it accepts labels absent from y_true only when told the labels,
 *   and then raises: this is the evident extension).
 * - balanced_accuracy and macro_auroc are NaN, and accuracy too, if n is 0. */
void usj_metrics_compute(usj_metrics *m, const int32_t *y, const int32_t *pred, const double *prob,
                         int64_t n, int C);
void usj_metrics_free(usj_metrics *m);

#endif
