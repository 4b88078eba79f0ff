/* region.c: scan-region detection. An ultrasound frame is a bright convex
 * sector or rectangle on black, plus burnt-in text, rulers and lines that
 * are thin: the opening removes those (and cuts lines that touch the
 * sector), the largest component is the scan, and its convex hull closes
 * dark (anechoic) parts inside it and its ragged speckle edge.
 *
 * This runs on every frame, so the mask is a bit plane (64 pixels a word:
 * the opening is a few word operations per 64 pixels) and components are
 * found on runs of set bits (a few per row) with union-find, never pixel by
 * pixel. */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "region.h"
#include "simd.h"

/* bitplane: pixel x of row y is bit x % 64 of bits[y * words + x / 64];
 * bits past the width stay 0 */
typedef struct bitplane {
	int w, h, words;
	uint64_t last; /* the bits of a row's last word inside the frame */
	uint64_t *bits;
} bitplane;

static void bitplane_init(bitplane *b, int w, int h)
{
	b->w = w;
	b->h = h;
	b->words = (w + 63) / 64;
	b->last = w % 64 ? ((uint64_t)1 << (w % 64)) - 1 : ~(uint64_t)0;
	b->bits = xmalloc((size_t)h * b->words * sizeof *b->bits);
}

/* signal_bits: bit = grey > threshold, unless the pixel is flat and dark
 * (usj_detect_region), 4 pixels a compare. The 3 x 3 range is a min and max
 * down 3 rows, then across 3 columns of those, over a row padded at both
 * ends with copies of its edge pixels (the same as leaving them out). */
static void signal_bits(const float *grey, float flat, float dark, float threshold, bitplane *b)
{
	int w = b->w, h = b->h;
	float *lo = xmalloc_aligned(((size_t)w + 2) * sizeof *lo); /* (w + 2): column minima, padded */
	float *hi = xmalloc_aligned(((size_t)w + 2) * sizeof *hi); /* (w + 2): column maxima, padded */
	for (int y = 0; y < h; y++) {
		const float *at = grey + (size_t)y * w;
		const float *up = y > 0 ? at - w : at, *down = y + 1 < h ? at + w : at;
		int x = 0;
		for (; x + 4 <= w; x += 4) {
			f32x4 u = load4(up + x), a = load4(at + x), d = load4(down + x);
			store4(lo + 1 + x, min4(min4(u, a), d));
			store4(hi + 1 + x, max4(max4(u, a), d));
		}
		for (; x < w; x++) {
			float mn = up[x] < at[x] ? up[x] : at[x], mx = up[x] > at[x] ? up[x] : at[x];
			lo[1 + x] = mn < down[x] ? mn : down[x];
			hi[1 + x] = mx > down[x] ? mx : down[x];
		}
		lo[0] = lo[1];
		hi[0] = hi[1];
		lo[w + 1] = lo[w];
		hi[w + 1] = hi[w];
		for (int i = 0; i < b->words; i++) {
			int n = w - 64 * i < 64 ? w - 64 * i : 64, k = 0;
			const float *g = at + 64 * i, *l = lo + 64 * i, *u = hi + 64 * i;
			uint64_t word = 0;
			for (; k + 4 <= n; k += 4) {
				f32x4 v = load4(g + k);
				f32x4 mn = min4(min4(load4(l + k), load4(l + k + 1)), load4(l + k + 2));
				f32x4 mx = max4(max4(load4(u + k), load4(u + k + 1)), load4(u + k + 2));
				i32x4 on = (v > threshold) & ~((mx - mn <= flat) & (v <= dark));
				word |= (uint64_t)mask4(on) << k;
			}
			for (; k < n; k++) {
				float mn = l[k] < l[k + 1] ? l[k] : l[k + 1], mx = u[k] > u[k + 1] ? u[k] : u[k + 1];
				mn = mn < l[k + 2] ? mn : l[k + 2];
				mx = mx > u[k + 2] ? mx : u[k + 2];
				word |= (uint64_t)(g[k] > threshold && !(mx - mn <= flat && g[k] <= dark)) << k;
			}
			b->bits[(size_t)y * b->words + i] = word;
		}
	}
	free(lo);
	free(hi);
}

/* step_rows: every pixel becomes the AND (erode) or OR (dilate) of itself
 * and its left and right neighbours; radius r is r steps. */
static void step_rows(bitplane *b, int erode)
{
	for (int y = 0; y < b->h; y++) {
		uint64_t *row = b->bits + (size_t)y * b->words, carry = 0;
		for (int i = 0; i < b->words; i++) {
			uint64_t here = row[i], next = i + 1 < b->words ? row[i + 1] : 0;
			uint64_t right = here >> 1 | next << 63; /* bit x: pixel x + 1 */
			uint64_t left = here << 1 | carry;       /* bit x: pixel x - 1 */
			carry = here >> 63;
			row[i] = erode ? here & left & right : here | left | right;
		}
		row[b->words - 1] &= b->last; /* dilation spills past the width */
	}
}

/* step_cols: the same with the rows above and below, from -> to; none is
 * the all-zero row standing for outside the frame. */
static void step_cols(const bitplane *from, bitplane *to, const uint64_t *none, int erode)
{
	int words = from->words;
	for (int y = 0; y < from->h; y++) {
		const uint64_t *here = from->bits + (size_t)y * words;
		const uint64_t *up = y > 0 ? here - words : none;
		const uint64_t *down = y + 1 < from->h ? here + words : none;
		uint64_t *out = to->bits + (size_t)y * words;
		for (int i = 0; i < words; i++)
			out[i] = erode ? up[i] & here[i] & down[i] : up[i] | here[i] | down[i];
	}
}

/* open_bits: erosion then dilation, each radius steps along rows and
 * along columns (a square window is a chain of 3 x 3 ones). */
static void open_bits(bitplane *b, int radius)
{
	bitplane spare = *b;
	spare.bits = xmalloc((size_t)b->h * b->words * sizeof *spare.bits);
	uint64_t *none = xcalloc((size_t)b->words, sizeof *none);
	for (int erode = 1; erode >= 0; erode--)
		for (int k = 0; k < radius; k++) {
			step_rows(b, erode);
			step_cols(b, &spare, none, erode);
			uint64_t *t = b->bits;
			b->bits = spare.bits;
			spare.bits = t;
		}
	free(spare.bits);
	free(none);
}

/* next_bit: the first x >= from in row whose bit is value, or w */
static int next_bit(const uint64_t *row, int w, int from, int value)
{
	int words = (w + 63) / 64, i = from / 64;
	if (i >= words)
		return w;
	uint64_t word = (value ? row[i] : ~row[i]) & (~(uint64_t)0 << (from % 64));
	while (!word) {
		if (++i == words)
			return w;
		word = value ? row[i] : ~row[i];
	}
	int x = 64 * i + __builtin_ctzll(word);
	return x < w ? x : w;
}

/* run: set pixels x0..x1 of row y; parent links runs of one component */
typedef struct run {
	int y, x0, x1;
	int parent;
} run;

static int find(run *r, int i)
{
	while (r[i].parent != i) {
		r[i].parent = r[r[i].parent].parent; /* path halving */
		i = r[i].parent;
	}
	return i;
}

/* unite: the component's root is its first run, hence its first pixel in
 * raster order */
static void unite(run *r, int a, int b)
{
	a = find(r, a);
	b = find(r, b);
	if (a < b)
		r[b].parent = a;
	else if (b < a)
		r[a].parent = b;
}

/* find_runs: the runs of b in raster order, each united with the runs of
 * the row above that touch it (8-connected: overlapping once widened by
 * one pixel). r has room for (w + 1) / 2 runs a row. Returns their count. */
static int find_runs(const bitplane *b, run *r)
{
	int n = 0, above = 0; /* the previous row's runs are above .. row_start - 1 */
	for (int y = 0; y < b->h; y++) {
		const uint64_t *row = b->bits + (size_t)y * b->words;
		int row_start = n;
		int x = next_bit(row, b->w, 0, 1);
		while (x < b->w) {
			int end = next_bit(row, b->w, x, 0);
			r[n] = (run){y, x, end - 1, n};
			while (above < row_start && r[above].x1 + 1 < x)
				above++; /* left of this run, so of every later one */
			for (int k = above; k < row_start && r[k].x0 <= end; k++)
				unite(r, n, k);
			n++;
			x = next_bit(row, b->w, end, 1);
		}
		above = row_start;
	}
	return n;
}

typedef struct point { int x, y; } point;

/* turn: the cross product (a - o) x (b - o), whose sign says which way
 * o -> a -> b turns (0: straight on) */
static int64_t turn(point o, point a, point b)
{
	return (int64_t)(a.x - o.x) * (b.y - o.y) - (int64_t)(a.y - o.y) * (b.x - o.x);
}

/* convex_hull: Andrew's monotone chain over n distinct points sorted by
 * (y, x) rather than the usual (x, y): that mirrors the plane, so the two
 * chains swap roles and the hull comes out in the other orientation, which
 * fill_hull does not mind. Its vertices go to hull (room for 2 n),
 * collinear ones dropped. Returns their count. */
static int convex_hull(const point *p, int n, point *hull)
{
	if (n < 3) {
		memcpy(hull, p, (size_t)n * sizeof *p);
		return n;
	}
	int k = 0;
	for (int i = 0; i < n; i++) {
		while (k >= 2 && turn(hull[k - 2], hull[k - 1], p[i]) <= 0)
			k--;
		hull[k++] = p[i];
	}
	for (int i = n - 2, lower = k + 1; i >= 0; i--) {
		while (k >= lower && turn(hull[k - 2], hull[k - 1], p[i]) <= 0)
			k--;
		hull[k++] = p[i];
	}
	return k - 1; /* the last point repeats the first */
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && a < 0); }
static int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0 && a > 0); }

/* fill_hull: region (zeroed) gets 1 on every pixel whose centre lies in
 * the convex polygon or on its edge. Each edge updates the x-extent of the
 * rows it spans, in exact integer arithmetic; then each row's extent is
 * filled. Returns the number of pixels filled. */
static size_t fill_hull(uint8_t *region, int w, int h, const point *hull, int n)
{
	int *left = xmalloc((size_t)h * sizeof *left), *right = xmalloc((size_t)h * sizeof *right);
	for (int y = 0; y < h; y++) {
		left[y] = w;
		right[y] = -1;
	}
	for (int e = 0; e < n; e++) {
		point a = hull[e], b = hull[(e + 1) % n];
		if (a.y > b.y) {
			point t = a;
			a = b;
			b = t;
		}
		for (int y = a.y; y <= b.y; y++) {
			int64_t lo = a.x < b.x ? a.x : b.x, hi = a.x < b.x ? b.x : a.x;
			if (b.y > a.y) { /* x = a.x + (y - a.y) (b.x - a.x) / (b.y - a.y) */
				int64_t num = (int64_t)a.x * (b.y - a.y) + (int64_t)(y - a.y) * (b.x - a.x);
				lo = ceil_div(num, b.y - a.y);
				hi = floor_div(num, b.y - a.y);
			}
			left[y] = lo < left[y] ? (int)lo : left[y];
			right[y] = hi > right[y] ? (int)hi : right[y];
		}
	}
	size_t filled = 0;
	for (int y = 0; y < h; y++) {
		if (right[y] < left[y])
			continue;
		memset(region + (size_t)y * w + left[y], 1, (size_t)(right[y] - left[y] + 1));
		filled += (size_t)(right[y] - left[y] + 1);
	}
	free(left);
	free(right);
	return filled;
}

/* major_hull_points: the leftmost and rightmost pixel of each row of the
 * major components (only those can be hull vertices), sorted by (y, x),
 * from n > 0 runs; returns their count. A component is major when it has at
 * least 1/MAJOR of the largest one's pixels: a sector whose middle is
 * anechoic (black) falls apart into a few large pieces, while text and
 * markers that survive the opening stay small. */
#define MAJOR 4
static int major_hull_points(run *r, int n, point *p)
{
	int64_t *size = xcalloc((size_t)n, sizeof *size), largest = 0;
	for (int i = 0; i < n; i++)
		size[find(r, i)] += r[i].x1 - r[i].x0 + 1;
	for (int i = 0; i < n; i++)
		largest = size[i] > largest ? size[i] : largest;
	int count = 0, row_first = -1; /* row_first: the current row's first point */
	for (int i = 0; i < n; i++) {
		if (MAJOR * size[find(r, i)] < largest)
			continue;
		if (row_first < 0 || p[row_first].y != r[i].y) {
			row_first = count;
			p[count++] = (point){r[i].x0, r[i].y};
		}
		if (r[i].x1 > p[row_first].x) { /* the row's right end so far */
			count = row_first + 2;
			p[row_first + 1] = (point){r[i].x1, r[i].y};
		}
	}
	free(size);
	return count;
}

/* range_rows: lo, hi (h, w) = min and max of each pixel and its left and
 * right neighbours inside the row */
static void range_rows(const float *grey, int w, int h, float *lo, float *hi)
{
	for (int y = 0; y < h; y++) {
		const float *g = grey + (size_t)y * w;
		float *l = lo + (size_t)y * w, *u = hi + (size_t)y * w;
		for (int x = 0; x < w; x++) {
			float a = g[x > 0 ? x - 1 : x], b = g[x], c = g[x + 1 < w ? x + 1 : x];
			float mn = a < b ? a : b, mx = a > b ? a : b;
			l[x] = mn < c ? mn : c;
			u[x] = mx > c ? mx : c;
		}
	}
}

void usj_signal_only(const float *grey, int w, int h, float flat, float dark, float *signal)
{
	float *lo = xmalloc_aligned((size_t)w * h * sizeof *lo); /* (h, w) */
	float *hi = xmalloc_aligned((size_t)w * h * sizeof *hi); /* (h, w) */
	range_rows(grey, w, h, lo, hi);
	for (int y = 0; y < h; y++) {
		/* rows above and below, clamped at the frame's edge */
		size_t up = (size_t)(y > 0 ? y - 1 : y) * w, at = (size_t)y * w, down = (size_t)(y + 1 < h ? y + 1 : y) * w;
		for (int x = 0; x < w; x++) {
			float mn = lo[up + x] < lo[at + x] ? lo[up + x] : lo[at + x];
			float mx = hi[up + x] > hi[at + x] ? hi[up + x] : hi[at + x];
			mn = mn < lo[down + x] ? mn : lo[down + x];
			mx = mx > hi[down + x] ? mx : hi[down + x];
			float v = grey[at + x];
			signal[at + x] = mx - mn <= flat && v <= dark ? 0.0f : v;
		}
	}
	free(lo);
	free(hi);
}

size_t usj_detect_region(const float *grey, int w, int h, float flat, float dark, float threshold,
                         int radius, uint8_t *region)
{
	bitplane b;
	bitplane_init(&b, w, h);
	signal_bits(grey, flat, dark, threshold, &b);
	open_bits(&b, radius);
	run *r = xmalloc((size_t)h * ((w + 1) / 2) * sizeof *r);
	int n = find_runs(&b, r);
	free(b.bits);
	memset(region, 0, (size_t)w * h);
	size_t filled = 0;
	if (n) {
		point *p = xmalloc(2 * (size_t)h * sizeof *p), *hull = xmalloc(4 * (size_t)h * sizeof *hull);
		filled = fill_hull(region, w, h, hull, convex_hull(p, major_hull_points(r, n, p), hull));
		free(p);
		free(hull);
	}
	free(r);
	return filled;
}
