/* phantom_organs.h: scene painters, one per organ view, for the synthetic
 * benchmark's tasks (phantom_task.c). Coordinates are cm: x lateral (0 under
 * the middle of the probe), z depth below the probe face. */
#ifndef USJ_PHANTOM_ORGANS_H
#define USJ_PHANTOM_ORGANS_H
#include "phantom.h"
#include "rng.h"

enum usj_view {
	USJ_VIEW_LIVER,       /* variant 0 normal, 1 benign mass, 2 malignant mass */
	USJ_VIEW_FATTY,       /* 0 normal parenchyma, 1 steatosis */
	USJ_VIEW_GALLBLADDER, /* 0 normal, 1 stone or polyp, 2 wall thickening and mass */
	USJ_VIEW_BREAST,      /* 0 benign mass, 1 malignant mass */
	USJ_VIEW_THYROID,     /* 0 benign nodule, 1 malignant nodule, 2 no nodule */
	USJ_VIEW_LUNG,        /* 0 A-lines, 1 consolidation, 2 B-lines and broken pleura */
	USJ_VIEW_OVARY,       /* 0..7: the ovary task's classes, in order */
	USJ_VIEW_BLADDER,
	USJ_VIEW_A4C,         /* apical four-chamber */
	USJ_VIEW_PLAX,        /* parasternal long axis */
	USJ_VIEW_PSAX,        /* parasternal short axis */
	USJ_VIEW_IVC,
	USJ_VIEW_CAROTID,
	USJ_VIEW_MORISON,     /* hepatorenal interface */
	USJ_VIEWS
};

/* What a painter draws with: the group's random stream (anatomy, lesion,
 * settings: the same for every image of a group) and this image's lateral
 * probe offset. */
typedef struct usj_painter {
	usj_scene *s;
	const usj_probe *p;
	usj_rng *anat;
	double dx;
} usj_painter;

/* usj_view_probe: the probe a view is scanned with, its settings drawn from anat. */
void usj_view_probe(enum usj_view v, usj_rng *anat, usj_probe *p);
/* usj_view_paint: paint view v, variant, into pt->s (already initialised). */
void usj_view_paint(enum usj_view v, int variant, usj_painter *pt);
/* usj_view_family: the pretraining family (USJ_FAMILY_*) of a view. */
int usj_view_family(enum usj_view v);
/* usj_view_variants: how many variants a view has (1 for sites without lesions). */
int usj_view_variants(enum usj_view v);

#endif
