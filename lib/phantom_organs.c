/* phantom_organs.c: organ views painted as echogenicity, attenuation and
 * specular maps (man/us-phantom.1, "Scenes"). Levels are relative to liver
 * parenchyma (echo 1): fat ~0.35, muscle ~0.6, thyroid and breast gland
 * brighter, fluid ~0.01; attenuation in dB/cm/MHz (fluid ~0, stones, bone
 * and air so high that everything below is shadow). Every random draw comes
 * from the group's stream, so the images of one patient show one anatomy. */
#include <math.h>

#include "phantom_organs.h"
#include "phantom_task.h"

static double U(usj_rng *r, double lo, double hi) { return lo + (hi - lo) * usj_rng_uniform(r); }
static int N(usj_rng *r, int lo, int hi) { return lo + (int)usj_rng_below(r, (uint64_t)(hi - lo + 1)); }
static int chance(usj_rng *r, double p) { return usj_rng_uniform(r) < p; }
static usj_paint P(double echo, double atten, double spec)
{
	return (usj_paint){(float)echo, (float)atten, (float)spec};
}

/* fluid is anechoic: ~40 dB below liver, under any display gain */
#define FLUID P(1e-4, 0.2, -1)
#define BLOOD P(3e-4, 0.25, -1)
#define MYOCARDIUM P(0.8, 0.5, -1)

/* Shapes placed relative to this image's probe position (pt->dx). */
static void ellipse(usj_painter *pt, double cx, double cz, double rx, double rz, double rot, usj_paint v)
{
	usj_paint_ellipse(pt->s, cx + pt->dx, cz, rx, rz, rot, v);
}
static void ring(usj_painter *pt, double cx, double cz, double rx, double rz, double rot, double thick,
                 usj_paint v)
{
	usj_paint_ring(pt->s, cx + pt->dx, cz, rx, rz, rot, thick, v);
}
static void segment(usj_painter *pt, double x0, double z0, double x1, double z1, double thick, usj_paint v)
{
	usj_paint_segment(pt->s, x0 + pt->dx, z0, x1 + pt->dx, z1, thick, v);
}
static void scale(usj_painter *pt, double cx, double cz, double rx, double rz, double rot, float factor)
{
	usj_scale_ellipse(pt->s, cx + pt->dx, cz, rx, rz, rot, factor);
}
/* blob: an ellipse whose edge wanders by up to `irregular` (a fraction of
 * the radius) over nharm harmonics: lobulated when few, spiculated when many */
static void blob(usj_painter *pt, double cx, double cz, double rx, double rz, double rot, double irregular,
                 int nharm, usj_paint v)
{
	double amp[12], phase[12];
	nharm = nharm > 12 ? 12 : nharm;
	for (int k = 0; k < nharm; k++) {
		amp[k] = irregular * U(pt->anat, 0.3, 1.0) / (1.0 + 0.25 * k);
		phase[k] = U(pt->anat, 0, 2 * M_PI);
	}
	usj_paint_blob(pt->s, cx + pt->dx, cz, rx, rz, rot, amp, phase, nharm, v);
}
/* layer: a tissue band under the probe face, wavy */
static void layer(usj_painter *pt, double d0, double d1, double wave, usj_paint v)
{
	double period = U(pt->anat, 3, 9), phase = U(pt->anat, 0, 2 * M_PI);
	usj_paint_shell(pt->s, pt->p->convex ? pt->p->radius_cm : 0, d0, d1, wave, period, phase, v);
}

/* half_width: how far the field of view reaches sideways at depth z */
static double half_width(const usj_probe *p, double z)
{
	if (!p->convex)
		return 0.5 * p->width_cm;
	return (p->radius_cm + z) * sin(p->angle_deg * M_PI / 360.0);
}
/* lateral: a position at depth z inside the middle `keep` of the field of view */
static double lateral(usj_painter *pt, double z, double keep)
{
	double h = keep * half_width(pt->p, z);
	return U(pt->anat, -h, h);
}

/* body_wall: skin, subcutaneous fat, fascia and muscle; returns the depth below them */
static double body_wall(usj_painter *pt, double fat_lo, double fat_hi, double muscle_lo, double muscle_hi)
{
	usj_rng *r = pt->anat;
	double fat = U(r, fat_lo, fat_hi), muscle = fat + U(r, muscle_lo, muscle_hi), wave = U(r, 0.02, 0.2);
	layer(pt, 0, muscle, wave, P(0.6, 0.6, -1));
	layer(pt, 0, fat, wave, P(U(r, 0.25, 0.45), 0.6, -1));
	layer(pt, 0, 0.1, 0, P(2.0, 0.5, 0.3));
	layer(pt, fat, fat + 0.07, wave, P(1.6, 0.5, 0.4));
	layer(pt, muscle, muscle + 0.08, wave, P(1.6, 0.5, 0.5));
	return muscle + 0.08;
}

/* ---- abdomen ---- */

/* liver: the liver under the body wall down to a curved diaphragm, with
 * vessels; echo and attenuation of the parenchyma, vessel wall brightness */
static double liver(usj_painter *pt, double echo, double atten, double wall)
{
	usj_rng *r = pt->anat;
	const usj_probe *p = pt->p;
	double rx = U(r, 8, 14), rz = U(r, 7, 11), bottom = U(r, 0.8, 1.15) * p->depth_cm;
	double cx = U(r, -3, 3), rot = U(r, -0.2, 0.2);
	usj_paint_layer(pt->s, 0, 40, 0, 1, 0, P(0.7, 0.5, -1)); /* lung base beyond the diaphragm */
	ellipse(pt, cx, bottom - rz, rx, rz, rot, P(echo, atten, -1));
	ring(pt, cx, bottom - rz, rx, rz, rot, 0.3, P(2.2, 0.5, 1.2 * wall));
	double top = body_wall(pt, 0.4, 2.2, 0.5, 1.3);
	for (int n = N(r, 2, 5); n > 0; n--) {
		double z = U(r, top + 1.0, 0.85 * p->depth_cm), x = lateral(pt, z, 0.8);
		if (chance(r, 0.5)) { /* portal vein: bright walls */
			double rad = U(r, 0.25, 0.7);
			ellipse(pt, x, z, rad, rad * U(r, 0.6, 1), U(r, 0, M_PI), BLOOD);
			ring(pt, x, z, rad, rad, 0, 0.12, P(2.0 * wall, atten, 0.6 * wall));
		} else { /* hepatic vein: no wall, often cut along its length */
			ellipse(pt, x, z, U(r, 0.3, 1.3), U(r, 0.2, 0.5), U(r, 0, M_PI), BLOOD);
		}
	}
	return top;
}

/* kidney: cortex darker than liver, pyramids, bright central sinus, fat capsule */
static void kidney(usj_painter *pt, double x, double z)
{
	usj_rng *r = pt->anat;
	double rx = U(r, 2.4, 3.4), rz = U(r, 1.2, 1.8), rot = U(r, -0.5, 0.5);
	ellipse(pt, x, z, rx + 0.25, rz + 0.25, rot, P(1.8, 0.6, -1));
	ellipse(pt, x, z, rx, rz, rot, P(U(r, 0.15, 0.3), 0.5, -1));
	for (int k = 0; k < 4; k++) {
		double t = -1.1 + 0.75 * k;
		ellipse(pt, x + 0.62 * rx * cos(t) * cos(rot), z + 0.62 * rx * cos(t) * sin(rot) - 0.1 * rz * sin(t),
		        0.35, 0.25, rot, P(0.2, 0.5, -1));
	}
	ellipse(pt, x, z, 0.55 * rx, 0.4 * rz, rot, P(3.0, 0.6, 0.2));
}

static void paint_liver(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	double echo = U(r, 0.85, 1.15);
	double top = liver(pt, echo, 0.5, 1.0);
	if (variant == 0)
		return;
	double z = U(r, top + 2.0, 0.75 * pt->p->depth_cm), x = lateral(pt, z, 0.6);
	if (variant == 1) { /* benign: well defined, mostly hyperechoic (haemangioma-like) */
		double rad = U(r, 0.6, 2.0), contrast = chance(r, 0.7) ? U(r, 2.5, 5.0) : U(r, 0.4, 0.6);
		blob(pt, x, z, rad * U(r, 1, 1.4), rad, U(r, 0, M_PI), 0.04, 3, P(echo * contrast, 0.5, -1));
		return;
	}
	/* malignant: hypoechoic, irregular, with a dark halo; sometimes necrotic or multiple */
	double rad = U(r, 0.8, 2.6), rot = U(r, 0, M_PI);
	blob(pt, x, z, rad * 1.15 + 0.3, rad + 0.3, rot, 0.1, 4, P(0.15 * echo, 0.5, -1));
	blob(pt, x, z, rad * 1.15, rad, rot, U(r, 0.1, 0.25), 6, P(echo * U(r, 0.15, 0.45), 0.5, -1));
	if (chance(r, 0.4))
		blob(pt, x, z, 0.4 * rad, 0.35 * rad, rot, 0.2, 4, P(0.08, 0.2, -1));
	if (chance(r, 0.3)) {
		double z2 = U(r, top + 1.5, 0.8 * pt->p->depth_cm), r2 = U(r, 0.4, 0.9);
		blob(pt, lateral(pt, z2, 0.7), z2, r2, r2, 0, 0.15, 5, P(echo * 0.5, 0.5, -1));
	}
}

static void paint_fatty(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	/* steatosis: brighter parenchyma, stronger attenuation with depth, vessel walls fading */
	double grade = variant ? U(r, 0.35, 1.0) : 0.0;
	double echo = U(r, 0.85, 1.15) * (1.0 + 1.2 * grade), atten = U(r, 0.45, 0.6) + 0.25 * grade;
	liver(pt, echo, atten, 1.0 - 0.75 * grade);
	if (chance(r, 0.8)) {
		double z = U(r, 0.5, 0.7) * pt->p->depth_cm;
		kidney(pt, lateral(pt, z, 0.5), z);
	}
}

static void paint_gallbladder(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	double top = liver(pt, U(r, 0.85, 1.15), 0.5, 1.0);
	double cz = U(r, top + 2.0, top + 5.5), cx = lateral(pt, cz, 0.4);
	double rx = U(r, 1.8, 3.6), rz = U(r, 1.0, 1.7), rot = U(r, -0.5, 0.5);
	blob(pt, cx, cz, rx, rz, rot, 0.05, 2, FLUID);
	ring(pt, cx, cz, rx, rz, rot, 0.12, P(2.0, 0.5, 0.3));
	if (variant == 1 && chance(r, 0.6)) { /* stones: bright, dependent, casting a clean shadow */
		for (int n = N(r, 1, 4); n > 0; n--) {
			double rad = U(r, 0.2, 0.6);
			ellipse(pt, cx + U(r, -0.6, 0.6) * rx, cz + rz - rad - 0.1, rad, rad * 0.8, 0,
			        P(2.5, 25, 1.2));
		}
	} else if (variant == 1) { /* polyp: small, echogenic, on the wall, no shadow */
		double t = U(r, -M_PI, 0), rad = U(r, 0.2, 0.45);
		ellipse(pt, cx + (rx - rad) * cos(t), cz + (rz - rad) * sin(t), rad, rad, 0, P(1.3, 0.5, -1));
	} else if (variant == 2) { /* carcinoma: thick irregular wall and a mass in the lumen */
		double thick = U(r, 0.4, 0.9), echo = U(r, 0.6, 1.0);
		ring(pt, cx, cz, rx, rz, rot, thick, P(echo, 0.5, -1));
		double t = U(r, 0, 2 * M_PI), rad = U(r, 0.5, 1.3);
		blob(pt, cx + 0.6 * rx * cos(t), cz + 0.6 * rz * sin(t), rad * 1.2, rad, t, 0.2, 5,
		     P(echo, 0.6, -1));
	}
}

static void paint_morison(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	liver(pt, U(r, 0.85, 1.15), 0.5, 1.0);
	double z = U(r, 0.45, 0.65) * pt->p->depth_cm, x = lateral(pt, z, 0.3);
	if (chance(r, 0.4)) /* free fluid in the hepatorenal pouch */
		ring(pt, x, z - 0.3, 3.2, 1.9, U(r, -0.3, 0.3), U(r, 0.2, 0.5), FLUID);
	kidney(pt, x, z);
}

static void paint_ivc(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	liver(pt, U(r, 0.85, 1.15), 0.5, 1.0);
	double z = U(r, 0.45, 0.65) * pt->p->depth_cm, slope = U(r, -0.25, 0.25), w = U(r, 1.3, 2.2);
	double x0 = -half_width(pt->p, z) - 1, x1 = -x0;
	segment(pt, x0, z + slope * x0, x1, z + slope * x1, w, BLOOD);
	segment(pt, x0, z + slope * x0 - w / 2, x1, z + slope * x1 - w / 2, 0.1, P(2.0, 0.5, 0.5));
	segment(pt, x0, z + slope * x0 + w / 2, x1, z + slope * x1 + w / 2, 0.1, P(2.0, 0.5, 0.5));
	double hx = U(r, -2, 2);
	segment(pt, hx, z + slope * hx, hx + U(r, -2, 2), z - U(r, 2, 4), U(r, 0.4, 0.8), BLOOD);
	double side = chance(r, 0.5) ? 1 : -1; /* the right atrium at the cranial end */
	ellipse(pt, side * (half_width(pt->p, z) + 0.5), z + slope * side * 3, 2.5, 2.2, 0, BLOOD);
}

static void paint_bladder(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	double top = body_wall(pt, 0.5, 2.5, 0.6, 1.4);
	double cz = top + U(r, 2.5, 4.5), cx = lateral(pt, cz, 0.3), rx = U(r, 2.5, 5), rz = U(r, 2, 3.5);
	double uz = cz + rz + U(r, 1, 2.5); /* uterus or prostate behind it */
	ellipse(pt, cx + U(r, -1, 1), uz, U(r, 2, 3), U(r, 1.5, 2.2), U(r, -0.3, 0.3), P(0.9, 0.5, -1));
	double amp[2] = {0.03, U(r, 0.04, 0.1)}, phase[2] = {0, U(r, -0.3, 0.3)}; /* rounded square */
	usj_paint_blob(pt->s, cx + pt->dx, cz, rx, rz, 0, amp, phase, 2, FLUID);
	ring(pt, cx, cz, rx * 1.02, rz * 1.02, 0, 0.15, P(1.8, 0.5, 0.3));
	if (chance(r, 0.3)) { /* bowel gas beside it */
		double gz = top + U(r, 1, 3);
		ellipse(pt, cx + (chance(r, 0.5) ? 1 : -1) * (rx + 1.2), gz, 0.8, 0.3, 0, P(2.5, 20, 1.5));
	}
}

/* ---- heart (phased array, apex at the top) ---- */

/* chest: a dim background around the heart */
static void chest(usj_painter *pt)
{
	usj_paint_layer(pt->s, 0, 40, 0, 1, 0, P(0.3, 0.5, -1));
	body_wall(pt, 0.2, 0.8, 0.5, 1.2);
}

static void paint_a4c(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	chest(pt);
	double zc = U(r, 7, 9), tilt = U(r, -0.25, 0.25), c = cos(tilt), s = sin(tilt);
	double sx = U(r, -0.4, 0.4), av = U(r, 0.5, 1.5);
	double hx = U(r, 4, 5.5), hz = U(r, 5, 6.5);
	ellipse(pt, 0, zc, hx, hz, tilt, MYOCARDIUM);
	ring(pt, 0, zc, hx, hz, tilt, 0.25, P(2.0, 0.5, 1.0));
	/* chambers around the crux (sx, av): LV right, RV left, atria below */
	const double cham[4][4] = {{1.6, -2.7, 1.5, 2.9}, {-1.5, -2.3, 1.25, 2.4}, {1.6, 1.6, 1.35, 1.4},
	                           {-1.6, 1.5, 1.3, 1.4}};
	for (int k = 0; k < 4; k++) {
		double u = sx + cham[k][0] * U(r, 0.9, 1.1), w = av + cham[k][1] * U(r, 0.9, 1.1);
		ellipse(pt, c * u - s * w, zc + s * u + c * w, cham[k][2] * U(r, 0.85, 1.15),
		        cham[k][3] * U(r, 0.85, 1.15), tilt, BLOOD);
	}
	for (int k = -1; k <= 1; k += 2) { /* mitral and tricuspid leaflets */
		double u = sx + 1.6 * k, w = av;
		segment(pt, c * (u - 0.9) - s * w, zc + s * (u - 0.9) + c * w, c * (u - 0.3) - s * (w - 0.8),
		        zc + s * (u - 0.3) + c * (w - 0.8), 0.12, P(1.8, 0.5, 0.5));
	}
}

static void paint_plax(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	chest(pt);
	double zs = U(r, 4.5, 6), tilt = U(r, -0.2, 0.2);
	ellipse(pt, 0, zs + 2.5, 6.5, 4.5, tilt, MYOCARDIUM);
	ellipse(pt, U(r, -1, 1), zs - 1.5, 3.5, U(r, 0.7, 1.0), tilt, BLOOD);         /* RV */
	double lvz = zs + U(r, 0.8, 1.2) + 2.1;
	ellipse(pt, -1.0, lvz, U(r, 3.0, 3.8), U(r, 1.8, 2.4), tilt, BLOOD);          /* LV */
	double ax = U(r, 2.2, 3.0), az = zs + 0.6;
	ellipse(pt, ax, az, 1.6, U(r, 0.8, 1.1), tilt, BLOOD);                         /* aortic root */
	segment(pt, ax - 1.6, az - 1.0, ax + 1.6, az - 1.0 + 3.2 * tilt, 0.1, P(2.0, 0.5, 0.5));
	double la = U(r, 1.5, 2.0);
	ellipse(pt, ax, az + 1.2 + la, la * 1.1, la, 0, BLOOD);                        /* LA */
	segment(pt, ax - 1.6, lvz + 0.3, ax - 0.7, az + 1.5, 0.12, P(1.8, 0.5, 0.5)); /* mitral */
	double pz = lvz + U(r, 3.0, 3.6);                                              /* pericardium */
	segment(pt, -6, pz + 6 * tilt, 6, pz - 6 * tilt + 0.8, 0.25, P(2.5, 0.5, 1.5));
}

static void paint_psax(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	chest(pt);
	double cz = U(r, 6.5, 8.5), cx = U(r, -1, 1), ro = U(r, 2.4, 3.2), ri = ro - U(r, 0.9, 1.3);
	ellipse(pt, cx - 1.4, cz - ro + 0.2, 3.0, 1.1, -0.45, BLOOD); /* RV crescent */
	ellipse(pt, cx, cz, ro, ro * U(r, 0.9, 1.05), 0, MYOCARDIUM);
	ellipse(pt, cx, cz, ri, ri * U(r, 0.9, 1.05), 0, BLOOD);
	for (int k = -1; k <= 1; k += 2) /* papillary muscles */
		ellipse(pt, cx + k * 0.55 * ri, cz + 0.5 * ri, 0.35, 0.3, 0, MYOCARDIUM);
	ring(pt, cx, cz, ro + 0.25, ro + 0.25, 0, 0.25, P(2.2, 0.5, 1.2));
}

/* ---- small parts (linear probe) ---- */

static void paint_breast(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	const usj_probe *p = pt->p;
	double fat = U(r, 0.5, 1.4), gland = fat + U(r, 0.8, 1.8), pec = gland + U(r, 0.2, 0.4);
	layer(pt, 0, 40, 0, P(0.6, 0.5, -1));                       /* chest wall muscle */
	layer(pt, 0, pec, 0.1, P(0.4, 0.6, -1));                    /* retromammary fat */
	layer(pt, 0, gland, U(r, 0.1, 0.3), P(U(r, 1.1, 1.8), 0.6, -1)); /* fibroglandular */
	layer(pt, 0, fat, 0.15, P(0.35, 0.6, -1));                  /* subcutaneous fat */
	layer(pt, 0, 0.12, 0, P(2.0, 0.5, 0.3));                    /* skin */
	for (int k = 0; k < 3; k++) /* pectoralis striations */
		layer(pt, pec + 0.25 + 0.3 * k, pec + 0.3 + 0.3 * k, 0.05, P(1.2, 0.5, 0.3));
	for (int n = N(r, 2, 5); n > 0; n--) { /* Cooper's ligaments through the fat */
		double x = lateral(pt, 0.5, 1.0);
		segment(pt, x, 0.2, x + U(r, -1, 1), fat + 0.1, 0.05, P(1.8, 0.5, 0.3));
	}
	double cz = U(r, fat + 0.4, fmin(gland + 0.3, 0.7 * p->depth_cm)), cx = lateral(pt, cz, 0.6);
	double rad = U(r, 0.35, 1.1);
	if (variant == 0) { /* benign: oval, parallel, circumscribed, mild enhancement */
		double rx = rad * U(r, 1.3, 2.0), rot = U(r, -0.25, 0.25);
		double atten = chance(r, 0.15) ? U(r, 0.8, 1.5) : U(r, 0.05, 0.4); /* some fibroadenomas shadow */
		blob(pt, cx, cz, rx, rad, rot, chance(r, 0.2) ? 0.06 : 0.01, 2, P(U(r, 0.08, 0.4), atten, -1));
		if (chance(r, 0.5))
			ring(pt, cx, cz, rx, rad, rot, 0.06, P(1.6, 0.5, 0.3));
		return;
	}
	/* malignant: irregular, spiculated, taller than wide, shadowing, echogenic halo */
	double rx = rad * U(r, 0.7, 1.1), rz = rad * U(r, 1.0, 1.6), rot = U(r, -0.3, 0.3);
	if (chance(r, 0.5))
		blob(pt, cx, cz, rx + 0.15, rz + 0.15, rot, 0.1, 6, P(1.8, 0.6, -1));
	for (int n = N(r, 3, 9); n > 0; n--) {
		double t = U(r, 0, 2 * M_PI), len = U(r, 1.2, 2.0);
		segment(pt, cx, cz, cx + len * rx * cos(t), cz + len * rz * sin(t), 0.05, P(1.6, 0.6, -1));
	}
	double atten = chance(r, 0.55) ? U(r, 1.2, 3.0) : U(r, 0.3, 0.8); /* about half of cancers shadow */
	blob(pt, cx, cz, rx, rz, rot, U(r, 0.12, 0.28), 8, P(U(r, 0.1, 0.4), atten, -1));
}

/* thyroid_neck: strap muscles, one lobe, isthmus, trachea, carotid and jugular;
 * returns the lobe's centre and radii */
static void thyroid_neck(usj_painter *pt, double *lx, double *lz, double *lrx, double *lrz)
{
	usj_rng *r = pt->anat;
	usj_paint_layer(pt->s, 0, 40, 0, 1, 0, P(0.5, 0.5, -1)); /* deep neck muscles */
	double top = body_wall(pt, 0.1, 0.4, 0.3, 0.6), side = chance(r, 0.5) ? 1 : -1;
	double echo = U(r, 1.3, 1.9);
	*lx = side * U(r, 0.1, 0.5);
	*lz = top + U(r, 0.7, 1.0);
	*lrx = U(r, 0.8, 1.2);
	*lrz = U(r, 0.5, 0.8);
	ellipse(pt, *lx - side * 3.5, top + 3.5, 2.2, 1.2, 0, P(0.5, 0.5, -1)); /* longus colli */
	double tx = *lx - side * (*lrx + U(r, 0.6, 1.0)), tz = top + U(r, 1.0, 1.4);
	segment(pt, *lx, *lz - 0.2, tx, tz - 0.6, U(r, 0.3, 0.5), P(echo, 0.5, -1)); /* isthmus */
	blob(pt, *lx, *lz, *lrx, *lrz, U(r, -0.2, 0.2), 0.05, 3, P(echo, 0.5, -1));
	ellipse(pt, tx, tz + 0.9, 0.9, 0.8, 0, P(0.1, 40, -1)); /* tracheal air: shadow */
	ring(pt, tx, tz + 0.9, 0.9, 0.8, 0, 0.12, P(2.5, 0.5, 1.0));
	double cx = *lx + side * (*lrx + U(r, 0.1, 0.3)), cz = *lz + U(r, 0.1, 0.4), cr = U(r, 0.3, 0.42);
	ellipse(pt, cx + side * 0.7, cz - 0.7, U(r, 0.5, 0.8), U(r, 0.2, 0.45), 0, BLOOD); /* jugular */
	ellipse(pt, cx, cz, cr, cr, 0, BLOOD);
	ring(pt, cx, cz, cr, cr, 0, 0.08, P(2.0, 0.5, 0.8));
}

static void paint_thyroid(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	double lx, lz, lrx, lrz;
	thyroid_neck(pt, &lx, &lz, &lrx, &lrz);
	if (variant == 2)
		return;
	double rad = U(r, 0.3, 0.75), cx = lx + U(r, -0.3, 0.3) * lrx, cz = lz + U(r, -0.2, 0.2) * lrz;
	if (variant == 0) { /* benign: iso- to hyperechoic, wider than tall, smooth, halo, spongiform */
		double rx = rad * U(r, 1.1, 1.6);
		ellipse(pt, cx, cz, rx, rad, 0, P(U(r, 1.0, 2.4), 0.5, -1));
		if (chance(r, 0.4))
			ring(pt, cx, cz, rx, rad, 0, 0.08, P(0.2, 0.5, -1));
		if (chance(r, 0.4))
			for (int n = N(r, 4, 10); n > 0; n--)
				ellipse(pt, cx + U(r, -0.6, 0.6) * rx, cz + U(r, -0.6, 0.6) * rad, U(r, 0.05, 0.12),
				        U(r, 0.05, 0.1), 0, FLUID);
		return;
	}
	/* malignant: hypoechoic, irregular, taller than wide, microcalcifications */
	double rx = rad * U(r, 0.7, 1.0), rz = rad * U(r, 1.0, 1.5);
	blob(pt, cx, cz, rx, rz, U(r, -0.3, 0.3), U(r, 0.12, 0.25), 7, P(U(r, 0.2, 0.5), 0.6, -1));
	int calcs = chance(r, 0.8) ? N(r, 2, 10) : 0;
	for (int n = 0; n < calcs; n++)
		ellipse(pt, cx + U(r, -0.6, 0.6) * rx, cz + U(r, -0.6, 0.6) * rz, 0.04, 0.04, 0, P(3.0, 0.8, 1.0));
}

static void paint_carotid(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	double top = body_wall(pt, 0.1, 0.4, 0.4, 1.0);
	double cz = top + U(r, 0.6, 1.2), cx = lateral(pt, cz, 0.4), cr = U(r, 0.28, 0.42);
	if (chance(r, 0.6)) { /* transverse: a round artery, the jugular beside it */
		ellipse(pt, cx + 1.3, cz + 0.5, 1.4, 0.8, 0, P(1.6, 0.5, -1)); /* thyroid edge */
		ellipse(pt, cx - U(r, 0.6, 1.0), cz - 0.4, U(r, 0.5, 0.9), U(r, 0.25, 0.5), 0, BLOOD);
		ellipse(pt, cx, cz, cr, cr, 0, BLOOD);
		ring(pt, cx, cz, cr, cr, 0, 0.08, P(2.0, 0.5, 0.8));
	} else { /* longitudinal: a tube with bright walls across the image */
		double slope = U(r, -0.1, 0.1);
		segment(pt, -4, cz - 4 * slope, 4, cz + 4 * slope, 2 * cr, BLOOD);
		segment(pt, -4, cz - cr - 4 * slope, 4, cz - cr + 4 * slope, 0.08, P(2.0, 0.5, 0.8));
		segment(pt, -4, cz + cr - 4 * slope, 4, cz + cr + 4 * slope, 0.08, P(2.0, 0.5, 0.8));
	}
	if (chance(r, 0.2)) /* plaque on the far wall */
		ellipse(pt, cx + U(r, -0.3, 0.3), cz + cr * 0.8, U(r, 0.2, 0.5), 0.12, 0, P(1.8, 1.0, 0.3));
}

/* ---- lung ---- */

/* beam_end: where the beam through (x, z) reaches depth d: B-lines and
 * shadows run along beams, which fan out under a convex probe */
static void beam_end(const usj_probe *p, double x, double z, double d, double *ex, double *ez)
{
	if (!p->convex) {
		*ex = x;
		*ez = d;
		return;
	}
	double t = atan2(x, z + p->radius_cm), rr = p->radius_cm + d;
	*ex = rr * sin(t);
	*ez = rr * cos(t) - p->radius_cm;
}

static void paint_lung(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	const usj_probe *p = pt->p;
	double pleura = 0.0, aline = variant == 2 ? 0.5 : 1.0;
	layer(pt, 0, 40, 0, P(0.12, 0.5, -1)); /* aerated lung: only artefacts show */
	pleura = body_wall(pt, 0.3, 1.2, 0.4, 1.0) + U(r, 0.1, 0.4);
	layer(pt, pleura - 0.3, pleura, 0, P(0.6, 0.5, -1)); /* intercostal muscle */
	/* A-lines: reverberations of the pleura at multiples of its depth,
	 * painted where they appear rather than simulated by multiple echoes */
	for (int k = 2; k * pleura < p->depth_cm; k++)
		layer(pt, k * pleura, k * pleura + 0.12, 0, P(0.12 + aline * 2.5 * pow(0.7, k - 2), 0.5, -1));
	if (variant == 2) { /* fragmented, thickened, irregular pleura */
		double x = -half_width(p, pleura) - 0.5;
		while (x < half_width(p, pleura) + 0.5) {
			double len = U(r, 0.3, 1.2), off = U(r, -0.15, 0.15);
			segment(pt, x, pleura + off, x + len, pleura + off + U(r, -0.15, 0.15), U(r, 0.15, 0.3),
			        P(2.5, 0.5, 1.0));
			x += len + U(r, 0.05, 0.4);
		}
	} else {
		layer(pt, pleura, pleura + 0.12, 0.03, P(2.5, 0.5, 1.2));
	}
	if (variant == 1) { /* consolidation: tissue-like lung with a shredded deep border */
		double h = U(r, 1.5, 4.0), rx = U(r, 1.0, 2.5), cx = lateral(pt, pleura + h, 0.5);
		blob(pt, cx, pleura + 0.15 + h / 2, rx, h / 2, 0, 0.18, 6, P(U(r, 0.8, 1.2), 0.5, -1));
		for (int n = N(r, 4, 14); n > 0; n--) { /* air bronchograms */
			double x = cx + U(r, -0.7, 0.7) * rx, z = pleura + 0.3 + U(r, 0.1, 0.8) * h;
			segment(pt, x, z, x + U(r, -0.4, 0.4), z + U(r, -0.3, 0.3), 0.08, P(2.5, 0.5, U(r, 1.0, 2.5)));
		}
		if (chance(r, 0.3)) /* effusion beside it */
			blob(pt, cx + (rx + 1.2) * (chance(r, 0.5) ? 1 : -1), pleura + 1.2, 1.2, 0.9, 0, 0.1, 3, FLUID);
	}
	int blines = variant == 2 ? N(r, 2, 6) : variant == 0 && chance(r, 0.2) ? 1 : 0;
	for (int n = 0; n < blines; n++) { /* B-lines: from the pleura to the bottom, not fading */
		double x = lateral(pt, pleura, 0.85), ex, ez;
		beam_end(p, x, pleura, p->depth_cm + 1, &ex, &ez);
		segment(pt, x, pleura, ex, ez, U(r, 0.15, 0.4), P(U(r, 2.5, 5.0), 0.5, -1));
	}
	if (variant == 2)
		for (int n = N(r, 0, 3); n > 0; n--) { /* small subpleural consolidations */
			double rad = U(r, 0.2, 0.6);
			blob(pt, lateral(pt, pleura, 0.8), pleura + rad, rad * 1.3, rad, 0, 0.2, 4, P(0.9, 0.5, -1));
		}
	/* ribs over the pleura, each casting a shadow */
	double spacing = U(r, 2.0, 2.8), x0 = U(r, -spacing, 0);
	for (double x = x0 - 2 * spacing; x < half_width(p, pleura) + spacing; x += spacing)
		if (fabs(x) > 0.6)
			ellipse(pt, x, pleura - 0.05, U(r, 0.5, 0.7), 0.35, 0, P(2.0, 40, 1.5));
}

/* ---- pelvis (endocavity probe) ---- */

static void cyst_wall(usj_painter *pt, double cx, double cz, double rx, double rz, double thick, double echo)
{
	ring(pt, cx, cz, rx, rz, 0, thick, P(echo, 0.5, 0.2));
}

static void paint_ovary(usj_painter *pt, int variant)
{
	usj_rng *r = pt->anat;
	usj_paint_layer(pt->s, 0, 40, 0, 1, 0, P(1.0, 0.5, -1));
	for (int n = N(r, 1, 2); n > 0; n--) { /* bowel loops */
		double z = U(r, 1, 6), x = lateral(pt, z, 0.9);
		ellipse(pt, x, z, U(r, 0.6, 1.2), U(r, 0.4, 0.8), U(r, 0, M_PI), P(1.3, 0.6, -1));
		ring(pt, x, z, 0.9, 0.6, 0, 0.1, P(2.0, 0.5, 0.5));
	}
	if (chance(r, 0.5)) { /* uterus at one side */
		double z = U(r, 2, 5), x = (chance(r, 0.5) ? 1 : -1) * U(r, 3, 5);
		ellipse(pt, x, z, 2.5, 1.8, U(r, -0.4, 0.4), P(0.9, 0.5, -1));
		ellipse(pt, x, z, 1.6, 0.15, 0, P(1.7, 0.5, -1));
	}
	double cz = U(r, 2.5, 4.5), cx = lateral(pt, cz, 0.4);
	switch (variant) {
	case 0: { /* simple cyst: anechoic, thin wall, enhancement */
		double rad = U(r, 1.2, 3.0), rz = rad * U(r, 0.8, 1.0);
		if (chance(r, 0.5))
			ellipse(pt, cx + 0.4 * rad, cz + 0.3, rad * 0.8, rz * 0.8, 0, P(0.9, 0.5, -1));
		ellipse(pt, cx, cz, rad, rz, 0, FLUID);
		cyst_wall(pt, cx, cz, rad, rz, 0.08, 1.5);
		break;
	}
	case 1: { /* endometrioma: homogeneous low-level ("ground-glass") echoes */
		double rad = U(r, 1.2, 2.5), rz = rad * U(r, 0.8, 1.0);
		ellipse(pt, cx, cz, rad, rz, 0, P(U(r, 0.04, 0.12), 0.3, -1));
		cyst_wall(pt, cx, cz, rad, rz, 0.12, 1.3);
		if (chance(r, 0.3))
			for (int n = N(r, 1, 3); n > 0; n--) {
				double t = U(r, 0, 2 * M_PI);
				ellipse(pt, cx + 0.95 * rad * cos(t), cz + 0.95 * rz * sin(t), 0.08, 0.08, 0, P(2.5, 0.5, 0.5));
			}
		break;
	}
	case 2: { /* mature teratoma: echogenic plug with shadow, hair lines */
		double rad = U(r, 1.5, 3.0), rz = rad * U(r, 0.75, 1.0);
		ellipse(pt, cx, cz, rad, rz, 0, P(U(r, 0.03, 0.15), 0.2, -1));
		cyst_wall(pt, cx, cz, rad, rz, 0.1, 1.4);
		for (int n = N(r, 3, 9); n > 0; n--) {
			double x = cx + U(r, -0.7, 0.7) * rad, z = cz + U(r, -0.7, 0.7) * rz;
			segment(pt, x, z, x + U(r, -0.6, 0.6), z + U(r, -0.2, 0.2), 0.05, P(2.0, 0.5, 0.6));
		}
		double t = U(r, 0, 2 * M_PI), pr = U(r, 0.5, 1.1);
		blob(pt, cx + (rad - pr) * cos(t), cz + (rz - pr) * sin(t), pr, pr * 0.9, t, 0.1, 3, P(2.8, 6, 1.0));
		break;
	}
	case 3: { /* serous cystadenoma: large, thin septa, small papillae */
		double rad = U(r, 2.0, 3.5), rz = rad * U(r, 0.7, 0.95);
		ellipse(pt, cx, cz, rad, rz, 0, FLUID);
		cyst_wall(pt, cx, cz, rad, rz, 0.08, 1.5);
		for (int n = N(r, 0, 2); n > 0; n--) {
			double x = cx + U(r, -0.6, 0.6) * rad;
			segment(pt, x, cz - rz, x + U(r, -0.8, 0.8), cz + rz, 0.05, P(1.5, 0.5, 0.4));
		}
		if (chance(r, 0.4))
			for (int n = N(r, 1, 2); n > 0; n--) {
				double t = U(r, 0, 2 * M_PI), pr = U(r, 0.2, 0.4);
				ellipse(pt, cx + (rad - pr) * cos(t), cz + (rz - pr) * sin(t), pr, pr, 0, P(1.0, 0.5, -1));
			}
		break;
	}
	case 4: { /* mucinous cystadenoma: multilocular, locules of different echo */
		double rad = U(r, 2.5, 4.0), rz = rad * U(r, 0.7, 0.9);
		ellipse(pt, cx, cz, rad, rz, 0, FLUID);
		for (int n = N(r, 2, 5); n > 0; n--)
			ellipse(pt, cx + U(r, -0.5, 0.5) * rad, cz + U(r, -0.5, 0.5) * rz, U(r, 0.4, 0.5) * rad,
			        U(r, 0.4, 0.5) * rz, U(r, 0, M_PI), P(U(r, 0.02, 0.35), 0.2, -1));
		for (int n = N(r, 4, 10); n > 0; n--) {
			double t = U(r, 0, 2 * M_PI), u = U(r, 0, 2 * M_PI);
			segment(pt, cx + 0.9 * rad * cos(t), cz + 0.9 * rz * sin(t), cx + 0.9 * rad * cos(u),
			        cz + 0.9 * rz * sin(u), 0.06, P(1.5, 0.5, 0.4));
		}
		cyst_wall(pt, cx, cz, rad, rz, 0.1, 1.5);
		break;
	}
	case 5: { /* solid tumour: hypoechoic, heterogeneous, sometimes shadowing (fibroma) */
		double rad = U(r, 1.2, 2.8), atten = chance(r, 0.5) ? 1.2 : 0.5;
		blob(pt, cx, cz, rad, rad * U(r, 0.75, 1.0), U(r, 0, M_PI), U(r, 0.05, 0.12), 3,
		     P(U(r, 0.2, 0.45), atten, -1));
		for (int n = N(r, 3, 6); n > 0; n--)
			scale(pt, cx + U(r, -0.6, 0.6) * rad, cz + U(r, -0.6, 0.6) * rad, U(r, 0.3, 0.8),
			      U(r, 0.3, 0.8), 0, (float)U(r, 0.6, 1.5));
		break;
	}
	case 6: { /* high-grade mixed: irregular solid and cystic parts, thick septa, ascites */
		double rad = U(r, 2.0, 3.5), rz = rad * U(r, 0.75, 1.0);
		blob(pt, cx, cz, rad, rz, U(r, 0, M_PI), U(r, 0.15, 0.3), 6, P(U(r, 0.3, 0.5), 0.5, -1));
		for (int n = N(r, 2, 4); n > 0; n--)
			scale(pt, cx + U(r, -0.6, 0.6) * rad, cz + U(r, -0.6, 0.6) * rz, U(r, 0.3, 0.8), U(r, 0.3, 0.8), 0,
			      (float)U(r, 2.0, 4.0));
		for (int n = N(r, 2, 5); n > 0; n--) {
			double cr = U(r, 0.4, 1.0);
			blob(pt, cx + U(r, -0.5, 0.5) * rad, cz + U(r, -0.5, 0.5) * rz, cr, cr * 0.8, 0, 0.2, 4, FLUID);
		}
		for (int n = N(r, 1, 3); n > 0; n--) {
			double t = U(r, 0, 2 * M_PI);
			segment(pt, cx, cz, cx + rad * cos(t), cz + rz * sin(t), U(r, 0.15, 0.3), P(1.2, 0.5, -1));
		}
		if (chance(r, 0.4))
			blob(pt, cx + (chance(r, 0.5) ? 1 : -1) * (rad + 1.5), cz + rz, 1.5, 1.0, 0, 0.2, 3, FLUID);
		break;
	}
	default: { /* normal ovary: follicles around the edge */
		double rx = U(r, 1.3, 2.0), rz = U(r, 0.9, 1.3), rot = U(r, -0.4, 0.4);
		ellipse(pt, cx, cz, rx, rz, rot, P(U(r, 0.35, 0.55), 0.5, -1));
		for (int n = N(r, 3, 10); n > 0; n--) {
			double t = U(r, 0, 2 * M_PI), d = U(r, 0.3, 0.8), fr = U(r, 0.15, 0.5);
			ellipse(pt, cx + d * (rx - fr) * cos(t), cz + d * (rz - fr) * sin(t), fr, fr * U(r, 0.8, 1), 0,
			        FLUID);
		}
		break;
	}
	}
}

/* ---- probes ---- */

static void settings(usj_probe *p, usj_rng *r)
{
	p->focus_cm = p->depth_cm * U(r, 0.35, 0.7);
	p->tgc = U(r, 0.75, 1.1);
	p->gain_db = U(r, -6, 6);
	p->dr_db = U(r, 45, 70);
}
static void abdominal(usj_probe *p, usj_rng *r, double d_lo, double d_hi)
{
	*p = (usj_probe){.convex = 1, .depth_cm = U(r, d_lo, d_hi), .angle_deg = U(r, 55, 75),
	                 .radius_cm = U(r, 3.5, 6), .f0_mhz = U(r, 2.5, 4.5)};
}
static void linear(usj_probe *p, usj_rng *r, double d_lo, double d_hi)
{
	*p = (usj_probe){.depth_cm = U(r, d_lo, d_hi), .width_cm = U(r, 3.5, 5), .f0_mhz = U(r, 7, 12)};
}
/* phased array: a sector from a small footprint */
static void phased(usj_probe *p, usj_rng *r, double d_lo, double d_hi)
{
	*p = (usj_probe){.convex = 1, .depth_cm = U(r, d_lo, d_hi), .angle_deg = U(r, 70, 90),
	                 .radius_cm = U(r, 0.2, 0.6), .f0_mhz = U(r, 2, 3.5)};
}
/* microconvex: a small curved footprint for superficial work */
static void microconvex(usj_probe *p, usj_rng *r, double d_lo, double d_hi)
{
	*p = (usj_probe){.convex = 1, .depth_cm = U(r, d_lo, d_hi), .angle_deg = U(r, 60, 80),
	                 .radius_cm = U(r, 1.5, 2.5), .f0_mhz = U(r, 5, 9)};
}

/* The probe follows the site, but not strictly (a handheld probe's presets,
 * a convex probe on the heart, a phased one on the liver), so the shape of
 * the field of view alone does not name the site. */
void usj_view_probe(enum usj_view v, usj_rng *r, usj_probe *p)
{
	double u = usj_rng_uniform(r);
	switch (v) {
	case USJ_VIEW_BREAST:
	case USJ_VIEW_THYROID:
	case USJ_VIEW_CAROTID:
		if (u < 0.7)
			linear(p, r, 3, 5.5);
		else
			microconvex(p, r, 4, 6);
		break;
	case USJ_VIEW_LUNG:
		if (u < 0.35)
			linear(p, r, 4, 8);
		else if (u < 0.7)
			abdominal(p, r, 10, 16);
		else
			phased(p, r, 10, 16);
		break;
	case USJ_VIEW_A4C:
	case USJ_VIEW_PLAX:
	case USJ_VIEW_PSAX:
		if (u < 0.7)
			phased(p, r, 13, 18);
		else
			abdominal(p, r, 13, 18);
		break;
	case USJ_VIEW_OVARY: /* endocavity: wide fan, high frequency, shallow */
		*p = (usj_probe){.convex = 1, .depth_cm = U(r, 6, 9), .angle_deg = U(r, 110, 150),
		                 .radius_cm = U(r, 0.8, 1.2), .f0_mhz = U(r, 5, 8)};
		break;
	default:
		if (u < 0.75)
			abdominal(p, r, 11, 18);
		else
			phased(p, r, 11, 18);
		break;
	}
	settings(p, r);
}

typedef void (*painter_fn)(usj_painter *pt, int variant);
static const struct {
	painter_fn paint;
	int family, variants;
} views[USJ_VIEWS] = {
	[USJ_VIEW_LIVER] = {paint_liver, USJ_FAMILY_ABDOMEN, 3},
	[USJ_VIEW_FATTY] = {paint_fatty, USJ_FAMILY_ABDOMEN, 2},
	[USJ_VIEW_GALLBLADDER] = {paint_gallbladder, USJ_FAMILY_ABDOMEN, 3},
	[USJ_VIEW_BREAST] = {paint_breast, USJ_FAMILY_BREAST, 2},
	[USJ_VIEW_THYROID] = {paint_thyroid, USJ_FAMILY_THYROID, 3},
	[USJ_VIEW_LUNG] = {paint_lung, USJ_FAMILY_LUNG, 3},
	[USJ_VIEW_OVARY] = {paint_ovary, USJ_FAMILY_PELVIS, 8},
	[USJ_VIEW_BLADDER] = {paint_bladder, USJ_FAMILY_PELVIS, 1},
	[USJ_VIEW_A4C] = {paint_a4c, USJ_FAMILY_CARDIAC, 1},
	[USJ_VIEW_PLAX] = {paint_plax, USJ_FAMILY_CARDIAC, 1},
	[USJ_VIEW_PSAX] = {paint_psax, USJ_FAMILY_CARDIAC, 1},
	[USJ_VIEW_IVC] = {paint_ivc, USJ_FAMILY_ABDOMEN, 1},
	[USJ_VIEW_CAROTID] = {paint_carotid, USJ_FAMILY_THYROID, 1},
	[USJ_VIEW_MORISON] = {paint_morison, USJ_FAMILY_ABDOMEN, 1},
};

void usj_view_paint(enum usj_view v, int variant, usj_painter *pt) { views[v].paint(pt, variant); }
int usj_view_family(enum usj_view v) { return views[v].family; }
int usj_view_variants(enum usj_view v) { return views[v].variants; }
