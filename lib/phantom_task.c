/* phantom_task.c: the tasks of the synthetic benchmark, and the making of
 * one image: seeds, group settings, scene, render. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "overlay.h"
#include "phantom.h"
#include "phantom_organs.h"
#include "phantom_task.h"

const char *const usj_family_names[USJ_FAMILIES] = {"cardiac", "abdomen", "lung", "breast", "thyroid",
                                                     "pelvis"};

/* Which view and variant each class of each task shows. */
typedef struct task_classes {
	enum usj_view view[9];
	int variant[9];
} task_classes;

const usj_phantom_task usj_phantom_tasks[] = {
	{"liver-mass", "liver: normal, benign mass (well defined, often hyperechoic), malignant mass "
	               "(hypoechoic, halo, irregular); like AUL", 3, {"normal", "benign", "malignant"}},
	{"breast", "breast mass: benign (oval, parallel, circumscribed), malignant (irregular, "
	           "spiculated, taller than wide, shadowing); like BUSBRA", 2, {"benign", "malignant"}},
	{"sites", "nine scan sites with distinct anatomy; like Butterfly", 9,
	 {"bladder", "heart-a4c", "heart-plax", "heart-psax", "ivc", "carotid", "lung", "thyroid", "morison"}},
	{"fatty-liver", "liver parenchyma: normal, steatosis (brighter, attenuating, vessel walls "
	                "fading); like Fatty Liver", 2, {"normal", "steatosis"}},
	{"gallbladder", "gallbladder: normal, benign (stone with shadow, or polyp), malignant (wall "
	                "thickening, mass); like GBCU", 3, {"normal", "benign", "malignant"}},
	{"ovary", "ovarian lesions: eight types; like MMOTU", 8,
	 {"simple-cyst", "endometrioma", "teratoma", "serous-cystadenoma", "mucinous-cystadenoma",
	  "solid-tumour", "high-grade-mixed", "normal-ovary"}},
	{"lung", "lung: healthy (A-lines), pneumonia (consolidation, air bronchograms), COVID-like "
	         "(B-lines, irregular pleura); like POCUS", 3, {"healthy", "pneumonia", "covid"}},
	{"thyroid", "thyroid nodule: benign, malignant (hypoechoic, microcalcifications, irregular, "
	            "taller than wide); like TN5000", 2, {"benign", "malignant"}},
};
const int usj_phantom_ntasks = sizeof usj_phantom_tasks / sizeof usj_phantom_tasks[0];

static const task_classes task_views[] = {
	{{USJ_VIEW_LIVER, USJ_VIEW_LIVER, USJ_VIEW_LIVER}, {0, 1, 2}},
	{{USJ_VIEW_BREAST, USJ_VIEW_BREAST}, {0, 1}},
	{{USJ_VIEW_BLADDER, USJ_VIEW_A4C, USJ_VIEW_PLAX, USJ_VIEW_PSAX, USJ_VIEW_IVC, USJ_VIEW_CAROTID,
	  USJ_VIEW_LUNG, USJ_VIEW_THYROID, USJ_VIEW_MORISON},
	 {0, 0, 0, 0, 0, 0, 0, 2, 0}},
	{{USJ_VIEW_FATTY, USJ_VIEW_FATTY}, {0, 1}},
	{{USJ_VIEW_GALLBLADDER, USJ_VIEW_GALLBLADDER, USJ_VIEW_GALLBLADDER}, {0, 1, 2}},
	{{USJ_VIEW_OVARY, USJ_VIEW_OVARY, USJ_VIEW_OVARY, USJ_VIEW_OVARY, USJ_VIEW_OVARY, USJ_VIEW_OVARY,
	  USJ_VIEW_OVARY, USJ_VIEW_OVARY},
	 {0, 1, 2, 3, 4, 5, 6, 7}},
	{{USJ_VIEW_LUNG, USJ_VIEW_LUNG, USJ_VIEW_LUNG}, {0, 1, 2}},
	{{USJ_VIEW_THYROID, USJ_VIEW_THYROID}, {0, 1}},
};

const usj_phantom_task usj_phantom_pretrain = {
	"pretrain", "unlabelled scenes of every kind in the proportions of --mix (default mostly "
	            "cardiac, like the paper's corpus); the label is the scene family", USJ_FAMILIES,
	{"cardiac", "abdomen", "lung", "breast", "thyroid", "pelvis"}};

const usj_phantom_task *usj_phantom_task_find(const char *name)
{
	for (int t = 0; t < usj_phantom_ntasks; t++)
		if (strcmp(name, usj_phantom_tasks[t].name) == 0)
			return &usj_phantom_tasks[t];
	return strcmp(name, usj_phantom_pretrain.name) == 0 ? &usj_phantom_pretrain : NULL;
}

void usj_phantom_default_mix(double mix[USJ_FAMILIES])
{
	static const double paper[USJ_FAMILIES] = {0.75, 0.09, 0.04, 0.04, 0.04, 0.04};
	memcpy(mix, paper, sizeof paper);
}

/* seed_for: a generator for one (seed, task, group, image) cell; image -1 is
 * the group's own stream */
static void seed_for(usj_rng *r, const usj_phantom_task *t, uint64_t seed, int64_t group, int image)
{
	uint64_t task = (uint64_t)(t - usj_phantom_tasks) + 1;
	if (t == &usj_phantom_pretrain)
		task = 0;
	uint64_t h = seed * 0x9E3779B97F4A7C15ull ^ task * 0xBF58476D1CE4E5B9ull;
	h ^= (uint64_t)(group + 1) * 0x94D049BB133111EBull ^ (uint64_t)(image + 2) * 0xD6E8FEB86659FD93ull;
	usj_rng_seed(r, h);
}

int usj_phantom_label(const usj_phantom_task *t, const usj_phantom_opts *o, int64_t group)
{
	if (t != &usj_phantom_pretrain)
		return (int)(group % t->nclasses);
	usj_rng r;
	seed_for(&r, t, o->seed, group, -1);
	double u = usj_rng_uniform(&r), sum = 0;
	int last = 0;
	for (int f = 0; f < USJ_FAMILIES; f++)
		if (o->mix[f] > 0) {
			sum += o->mix[f];
			last = f;
			if (u < sum)
				return f;
		}
	return last;
}

/* pretrain_view: a random view of family f, and a random variant of it */
static enum usj_view pretrain_view(int family, usj_rng *r, int *variant)
{
	enum usj_view in[USJ_VIEWS];
	int n = 0;
	for (int v = 0; v < USJ_VIEWS; v++)
		if (usj_view_family(v) == family)
			in[n++] = v;
	enum usj_view v = in[usj_rng_below(r, (uint64_t)n)];
	*variant = (int)usj_rng_below(r, (uint64_t)usj_view_variants(v));
	return v;
}

/* overlay: a scanner screen's burnt-in annotations: settings text, depth
 * scale, focus marker (one layout for a group, from deco) and calipers on
 * some images (from shot). Nothing here depends on the label. */
static void overlay(uint8_t *rgb, int S, const usj_probe *p, double side_cm, usj_rng *deco, usj_rng *shot)
{
	static const uint8_t palette[4][3] = {{255, 230, 0}, {0, 230, 60}, {0, 190, 255}, {255, 120, 0}};
	static const uint8_t white[3] = {235, 235, 235};
	const uint8_t *colour = palette[usj_rng_below(deco, 4)];
	int scale = S >= 192 ? 2 : 1;
	char text[64];
	snprintf(text, sizeof text, "%.1fMHz D%.0f G%d", p->f0_mhz, p->depth_cm, (int)lrint(50 + 2 * p->gain_db));
	usj_overlay_text(rgb, S, S, 2 * scale, 2 * scale, text, scale, usj_rng_uniform(deco) < 0.5 ? white : colour);
	double px_per_cm = S / side_cm;
	int right = S - 2 - (int)usj_rng_below(deco, 3);
	usj_overlay_depth_scale(rgb, S, S, right, 0, (int)(p->depth_cm * px_per_cm), px_per_cm, -2 * scale, white);
	usj_overlay_arrowhead(rgb, S, S, right - 4 * scale, (int)(p->focus_cm * px_per_cm), 2 * scale, colour);
	if (usj_rng_uniform(shot) < 0.6) {
		double t = 2 * M_PI * usj_rng_uniform(shot), len = S * (0.1 + 0.25 * usj_rng_uniform(shot));
		int x0 = S / 4 + (int)usj_rng_below(shot, (uint64_t)S / 2), y0 = S / 4 + (int)usj_rng_below(shot, (uint64_t)S / 2);
		usj_overlay_caliper(rgb, S, S, x0, y0, x0 + (int)(len * cos(t)), y0 + (int)(len * sin(t)), 2 * scale, colour);
	}
}

int usj_phantom_make(const usj_phantom_task *t, const usj_phantom_opts *o, int64_t group, int k,
                     uint8_t *rgb, uint8_t *region)
{
	int S = o->size, label = usj_phantom_label(t, o, group), variant;
	usj_rng anat, shot;
	seed_for(&anat, t, o->seed, group, -1);
	seed_for(&shot, t, o->seed, group, k);
	usj_rng_u64(&anat); /* the draw usj_phantom_label made */
	enum usj_view view;
	if (t == &usj_phantom_pretrain) {
		view = pretrain_view(label, &anat, &variant);
	} else {
		const task_classes *c = &task_views[t - usj_phantom_tasks];
		view = c->view[label];
		variant = c->variant[label];
	}
	usj_probe p;
	usj_view_probe(view, &anat, &p);
	p.gain_db += 3.0 * (usj_rng_uniform(&shot) - 0.5); /* the sonographer's hand between images */
	usj_scene s;
	usj_scene_init(&s, S, usj_scene_side(&p));
	usj_painter pt = {.s = &s, .p = &p, .anat = &anat, .dx = 0.08 * s.side_cm * (usj_rng_uniform(&shot) - 0.5)};
	usj_view_paint(view, variant, &pt);
	usj_scene_texture(&s, &anat, 0.4 + 0.8 * usj_rng_uniform(&anat), 0.05 + 0.15 * usj_rng_uniform(&anat));
	uint8_t *grey = xmalloc((size_t)S * S);
	usj_phantom_render(&s, &p, &shot, S, grey, region, NULL, NULL, NULL);
	for (size_t i = 0; i < (size_t)S * S; i++)
		rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
	free(grey);
	usj_rng deco; /* the group's annotations: a stream of their own, so the anatomy is the same with or without */
	seed_for(&deco, t, o->seed, group, -2);
	if (usj_rng_uniform(&deco) < o->overlays)
		overlay(rgb, S, &p, s.side_cm, &deco, &shot);
	usj_scene_free(&s);
	return label;
}
