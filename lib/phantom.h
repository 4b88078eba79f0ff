/* phantom.h: synthetic B-mode ultrasound (man/us-phantom.1 gives the
 * physics and references). A scene is painted in physical coordinates as
 * three maps: echogenicity (mean scatterer power), attenuation and specular
 * reflectors; us_phantom_render images it through a probe: random
 * scatterers, two-way attenuation along each beam with time-gain
 * compensation, a depth-dependent point-spread function, envelope detection,
 * log compression and, for convex probes, scan conversion to a fan. */
#ifndef USJ_PHANTOM_H
#define USJ_PHANTOM_H
#include <stdint.h>

#include "rng.h"

typedef struct usj_probe {
	int convex;          /* 0: linear (rectangle), 1: convex (fan) */
	double depth_cm;     /* imaging depth below the probe face */
	double width_cm;     /* linear: aperture width */
	double angle_deg;    /* convex: field of view */
	double radius_cm;    /* convex: radius of the probe face */
	double f0_mhz;       /* centre frequency: sets speckle size and attenuation */
	double focus_cm;     /* focal depth: the beam is narrowest there */
	double tgc;          /* fraction of the nominal tissue attenuation compensated */
	double gain_db;      /* display gain */
	double dr_db;        /* dynamic range of the log compression */
} usj_probe;

/* The scene: maps over a square window of side side_cm, x from -side/2 to
 * side/2 (lateral), z from 0 (probe face) to side (depth); G x G cells. */
typedef struct usj_scene {
	int G;
	double side_cm;
	float *echo;    /* (G, G) mean backscatter power, 1 = liver-like parenchyma */
	float *atten;   /* (G, G) attenuation, dB/cm/MHz (0.5 soft tissue, 0.2 fluid here) */
	float *spec;    /* (G, G) coherent specular amplitude (interfaces, stones, pleura) */
} usj_scene;

/* Default attenuation of soft tissue, dB/cm/MHz. */
#define USJ_TISSUE_ATTEN 0.5f

void usj_scene_init(usj_scene *s, int G, double side_cm);
void usj_scene_free(usj_scene *s);
/* usj_scene_side: the window a probe needs: its field of view fits inside. */
double usj_scene_side(const usj_probe *p);

/* Painting, in cm. A shape's value replaces the maps where it lies (echo
 * and atten; spec adds), so later shapes cover earlier ones. */
typedef struct usj_paint {
	float echo, atten, spec; /* spec < 0: leave spec alone */
} usj_paint;
/* a star-shaped blob: centre, radii, rotation, and a boundary
 * r(t) = 1 + sum_k amp[k] cos(k t + phase[k]) for k = 2..nharm+1 */
void usj_paint_blob(usj_scene *s, double cx, double cz, double rx, double rz, double rot,
                    const double *amp, const double *phase, int nharm, usj_paint v);
void usj_paint_ellipse(usj_scene *s, double cx, double cz, double rx, double rz, double rot, usj_paint v);
/* a band between depths z0(x) and z1(x): z = z + wave * sin(2 pi x / period + phase) */
void usj_paint_layer(usj_scene *s, double z0, double z1, double wave, double period, double phase,
                     usj_paint v);
/* a band between depths d0 and d1 below a convex probe face of the given
 * radius (centred on x = 0, touching z = 0), as tissue layers lie under a
 * pressed convex probe; wavy along the face; radius <= 0 is usj_paint_layer */
void usj_paint_shell(usj_scene *s, double radius, double d0, double d1, double wave, double period,
                     double phase, usj_paint v);
/* a line segment of the given thickness (specular walls, needles, pleura) */
void usj_paint_segment(usj_scene *s, double x0, double z0, double x1, double z1, double thick, usj_paint v);
/* an elliptical ring (vessel and gallbladder walls, capsules) */
void usj_paint_ring(usj_scene *s, double cx, double cz, double rx, double rz, double rot, double thick,
                    usj_paint v);
/* multiply echo inside an ellipse by factor (texture, heterogeneity) */
void usj_scale_ellipse(usj_scene *s, double cx, double cz, double rx, double rz, double rot, float factor);
/* smooth multiplicative texture over the whole scene: exp(amount * noise) */
void usj_scene_texture(usj_scene *s, usj_rng *rng, double scale_cm, double amount);

/* usj_phantom_render: image the scene with probe p into image (S, S) grey
 * uint8 and region (S, S) 0/1 (the probe's field of view), using rng for
 * the scatterers. envelope, if not NULL, receives the detected envelope on
 * the beam grid (nz, nx), before log compression (for tests). */
void usj_phantom_render(const usj_scene *s, const usj_probe *p, usj_rng *rng, int S, uint8_t *image,
                        uint8_t *region, float *envelope, int *nz, int *nx);

#endif
