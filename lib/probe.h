/* probe.h: linear probes on frozen features (PAPER.md section 5): a features
 * stream in memory, stratified few-shot subsets of its training split, and
 * one linear layer trained by AdamW with early stopping on validation loss. */
#ifndef USJ_PROBE_H
#define USJ_PROBE_H
#include <stdint.h>

#include "params.h"
#include "stream.h"

enum { USJ_SPLIT_OTHER, USJ_SPLIT_TRAIN, USJ_SPLIT_VAL, USJ_SPLIT_TEST };

typedef struct usj_features {
	char *name;        /* the stream, for messages */
	int64_t n;         /* records */
	int D, C;          /* feature width, classes */
	float *x;          /* (n, D) */
	int32_t *y;        /* (n) labels, 0..C-1 */
	uint8_t *split;    /* (n) USJ_SPLIT_* from the record's "split" */
	char **classes;    /* (C) class names */
} usj_features;

/* usj_features_read: every record of in (a features stream), dying with
 * exit 3 and the record named on a missing or misshapen "feature", a
 * missing or out-of-range "label" or a width unlike the first record's.
 * With like NULL the classes are meta.input.classes, else (when the meta has
 * none) every label up to the largest, named by the records' "class"; with
 * like, the set must have like's width, and like's classes are its own. */
void usj_features_read(usj_features *f, usj_reader *in, const usj_features *like);
void usj_features_free(usj_features *f);

/* usj_features_select: the indices (ascending) of the records of one
 * split into idx (n); returns how many. */
int64_t usj_features_select(int64_t *idx, const usj_features *f, int split);

/* usj_features_train_stats: each dimension's mean and 1 / std (population)
 * over the training split; 1 where the std is below 1e-12. */
void usj_features_train_stats(float *mean, float *inv_std, const usj_features *f);
/* usj_features_standardize: x = (x - mean) * inv_std for every record. */
void usj_features_standardize(usj_features *f, const float *mean, const float *inv_std);

/* usj_probe_subset: the stratified few-shot subset of the training split:
 * for each class of n_c training records, max(1, round(percent n_c / 100))
 * of them (at most n_c), drawn by seed; the indices ascending into idx (n),
 * returns how many. For one seed, a smaller percent gives a subset of a
 * larger one's. */
int64_t usj_probe_subset(int64_t *idx, const usj_features *f, double percent, uint64_t seed);

typedef struct usj_probe_config {
	int epochs, patience, batch;
	double lr, wd;
} usj_probe_config;

typedef struct usj_probe {
	int D, C;
	usj_params ps;     /* "weight" (C, D) with weight decay, "bias" (C) without */
	int epochs;        /* epochs run */
	int best_epoch;    /* 1-based: the epoch of the lowest validation loss, whose weights are
	                    * kept (0, the initial weights, if no loss was finite) */
} usj_probe;

/* usj_probe_train: initialise the probe from seed (weight and bias uniform
 * in +-1/sqrt(D), as torch.nn.Linear) and train it on the records train
 * (ntrain) of f: mean cross-entropy over batches drawn in an order shuffled
 * each epoch from seed, AdamW (0.9, 0.999, eps 1e-8) with a cosine learning
 * rate per step from cfg->lr to 0 over cfg->epochs; after each epoch the
 * mean cross-entropy of val (nval), stopping when it has not fallen for
 * cfg->patience epochs, and ending with the best epoch's weights. The
 * shared pool (pool.h) must be single-threaded if probes are trained on
 * several threads at once. */
void usj_probe_train(usj_probe *p, const usj_probe_config *cfg, const usj_features *f, const int64_t *train,
                     int64_t ntrain, const int64_t *val, int64_t nval, uint64_t seed);
/* usj_probe_predict: softmax probabilities prob (n, C) and the predicted
 * class pred (n) (the first largest) of the records idx (n) of f. */
void usj_probe_predict(const usj_probe *p, double *prob, int32_t *pred, const usj_features *f, const int64_t *idx,
                       int64_t n);
void usj_probe_free(usj_probe *p);

#endif
