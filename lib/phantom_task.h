/* phantom_task.h: the synthetic benchmark's tasks. A task is a set of
 * classes, each a kind of scene (an organ view, with or without a lesion);
 * images come in groups ("patients") that share anatomy, lesion and scanner
 * settings, and every image is a pure function of (seed, task, group, index
 * in group), so any thread count gives the same bytes. */
#ifndef USJ_PHANTOM_TASK_H
#define USJ_PHANTOM_TASK_H
#include <stdint.h>

/* Scene families of the pretraining mix (--mix), in this order. */
enum { USJ_FAMILY_CARDIAC, USJ_FAMILY_ABDOMEN, USJ_FAMILY_LUNG, USJ_FAMILY_BREAST,
       USJ_FAMILY_THYROID, USJ_FAMILY_PELVIS, USJ_FAMILIES };
extern const char *const usj_family_names[USJ_FAMILIES];

typedef struct usj_phantom_task {
	const char *name;
	const char *summary;     /* one line: what the classes are, what real dataset it mirrors */
	int nclasses;
	const char *classes[9];
} usj_phantom_task;

extern const usj_phantom_task usj_phantom_tasks[];
extern const int usj_phantom_ntasks;
const usj_phantom_task *usj_phantom_task_find(const char *name); /* NULL if unknown */

/* The pretraining corpus: unlabelled scenes of every family in proportion
 * mix (summing to 1); its "classes" are the families, so a record's label
 * tells which family a scene came from. */
extern const usj_phantom_task usj_phantom_pretrain;
/* usj_phantom_default_mix: mostly cardiac, like the paper's corpus (75 %). */
void usj_phantom_default_mix(double mix[USJ_FAMILIES]);

typedef struct usj_phantom_opts {
	int size;                   /* output side S */
	uint64_t seed;
	double overlays;            /* fraction of groups with burnt-in annotations */
	double mix[USJ_FAMILIES];   /* pretrain only */
} usj_phantom_opts;

/* usj_phantom_label: the class of group g (balanced over the classes, or
 * drawn from the mix for pretraining). */
int usj_phantom_label(const usj_phantom_task *t, const usj_phantom_opts *o, int64_t group);

/* usj_phantom_make: image k of group g: rgb (S, S, 3), grey unless the
 * group carries coloured overlays, and region (S, S) 0/1, the probe's field
 * of view. Returns the label. Thread-safe. */
int usj_phantom_make(const usj_phantom_task *t, const usj_phantom_opts *o, int64_t group, int k,
                     uint8_t *rgb, uint8_t *region);

#endif
