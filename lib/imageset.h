/* imageset.h: an images stream held in memory for training: the images and
 * their regions as bytes, their ids, which dataset each came from, a
 * held-out slice, and the epochs' sampling with a cap per dataset
 * (PAPER.md section 4: P(dataset i) proportional to min(|D_i|, cap)). */
#ifndef USJ_IMAGESET_H
#define USJ_IMAGESET_H
#include <stdint.h>

#include "stream.h"

typedef struct usj_imageset {
	int n, S;                /* images, side */
	int *by_id;              /* (n) image indices in the order of their ids, for lookups */
	uint8_t *images;         /* (n, S, S) */
	uint8_t *regions;        /* (n, S, S) 0/1 */
	char **ids;              /* (n) */
	int *dataset;            /* (n) index into datasets */
	char **datasets;         /* (ndatasets) names: the records' "dataset" field, else one */
	int ndatasets;
	uint8_t *held_out;       /* (n) 1 for the held-out slice */
	msgpack_sbuffer meta;    /* the stream's meta, packed */
} usj_imageset;

/* usj_imageset_load: the records of the images stream at path whose split is
 * in splits (a comma-separated list; NULL: all), and those without a split;
 * dies on bad input naming the record (no image, sizes that differ, a
 * repeated id). */
void usj_imageset_load(usj_imageset *s, const char *path, const char *splits);
/* usj_imageset_hold_out: mark about fraction of the images held out, chosen
 * by a hash of (seed, id), so the slice does not depend on order. */
void usj_imageset_hold_out(usj_imageset *s, double fraction, uint64_t seed);
void usj_imageset_free(usj_imageset *s);
int usj_imageset_find(const usj_imageset *s, const char *id); /* -1 if absent */

/* An epoch: the training images of each dataset, at most cap of them (a
 * random subset when there are more), all shuffled; the same (seed, epoch)
 * gives the same order. */
typedef struct usj_epoch {
	int n;
	int *order;              /* (n) image indices */
} usj_epoch;

int usj_epoch_size(const usj_imageset *s, int cap);
void usj_epoch_draw(usj_epoch *e, const usj_imageset *s, int cap, uint64_t seed, int64_t epoch);
void usj_epoch_free(usj_epoch *e);

#endif
