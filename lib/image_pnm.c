/* image_pnm.c: Netpbm grey and colour maps, by hand since Debian ships no
 * netpbm library: P2 and P3 (plain text), P5 and P6 (raw, 16-bit samples
 * big-endian), maxval 1 to 65535, comments in the header. Only the first
 * image of a multi-image file is read. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "image_codec.h"
#include "mem.h"

struct pnm_header {
	int plain;    /* P2, P3: samples in decimal text */
	int channels; /* 1 (P2, P5) or 3 (P3, P6) */
	uint32_t width, height, maxval;
	size_t raster; /* where the samples start */
};

enum { NUMBER, END, BAD };

/* next_number: the decimal number at or after *pos, after whitespace and
 * comments. NUMBER (and *pos moves past it), END of data, or BAD: not a
 * number or above max. */
static int next_number(const uint8_t *p, size_t n, size_t *pos, uint32_t max, uint32_t *value)
{
	size_t i = *pos;
	for (;;) {
		while (i < n && isspace(p[i]))
			i++;
		if (i == n || p[i] != '#')
			break;
		while (i < n && p[i] != '\n' && p[i] != '\r')
			i++;
	}
	if (i == n)
		return END;
	if (!isdigit(p[i]))
		return BAD;
	uint64_t v = 0;
	while (i < n && isdigit(p[i]))
		if ((v = v * 10 + (p[i++] - '0')) > max)
			return BAD;
	*pos = i;
	*value = (uint32_t)v;
	return NUMBER;
}

static int parse_header(const uint8_t *p, size_t n, struct pnm_header *h, char *err, size_t errlen)
{
	int type = p[1] - '0';
	if (type != 2 && type != 3 && type != 5 && type != 6)
		return usj_fail(err, errlen, USJ_EDATA, "unsupported PNM type P%d (only P2, P3, P5 and P6)", type);
	h->plain = type < 5;
	h->channels = type == 3 || type == 6 ? 3 : 1;
	uint32_t *field[3] = {&h->width, &h->height, &h->maxval};
	uint32_t max[3] = {UINT32_MAX, UINT32_MAX, 65535};
	size_t pos = 2;
	for (int i = 0; i < 3; i++) {
		int r = next_number(p, n, &pos, max[i], field[i]);
		if (r == END)
			return usj_fail(err, errlen, USJ_EDATA, "corrupt PNM data: file is truncated");
		if (r == BAD)
			return usj_fail(err, errlen, USJ_EDATA, "corrupt PNM data: bad header");
	}
	/* exactly one whitespace byte ends the header */
	if (pos == n)
		return usj_fail(err, errlen, USJ_EDATA, "corrupt PNM data: file is truncated");
	if (!isspace(p[pos]) || h->maxval == 0)
		return usj_fail(err, errlen, USJ_EDATA, "corrupt PNM data: bad header");
	h->raster = pos + 1;
	return 0;
}

/* read_plain: the decimal samples after the header, as native 16-bit values. */
static uint16_t *read_plain(const uint8_t *p, size_t n, const struct pnm_header *h,
                            size_t count, char *err, size_t errlen)
{
	uint16_t *v = xmalloc(count * sizeof *v);
	size_t pos = h->raster;
	for (size_t i = 0; i < count; i++) {
		uint32_t x;
		int r = next_number(p, n, &pos, h->maxval, &x);
		if (r != NUMBER) {
			free(v);
			usj_fail(err, errlen, USJ_EDATA, r == END ? "corrupt PNM data: file is truncated"
			         : "corrupt PNM data: a sample is not a number or exceeds maxval %u", h->maxval);
			return NULL;
		}
		v[i] = (uint16_t)x;
	}
	return v;
}

/* raw_in_range: whether every raw sample is at most maxval, which holds by
 * construction when maxval is 255 or 65535. */
static int raw_in_range(const uint8_t *p, size_t count, int bytes, uint32_t maxval)
{
	if (maxval == (bytes == 1 ? 255 : 65535))
		return 1;
	for (size_t i = 0; i < count; i++, p += bytes)
		if ((bytes == 1 ? p[0] : (uint32_t)p[0] << 8 | p[1]) > maxval)
			return 0;
	return 1;
}

static int pnm_read(usj_decoder *d, int frame, usj_native *out, char *err, size_t errlen)
{
	struct pnm_header h;
	int rc = parse_header(d->data, d->size, &h, err, errlen);
	if (rc)
		return rc;
	size_t count = (size_t)h.width * h.height * h.channels;
	int bytes = h.maxval > 255 ? 2 : 1;
	usj_samples s = {.per_pixel = h.channels, .colour = h.channels == 3, .bytes = bytes,
	                 .big_endian = 1, .maxval = h.maxval};
	if (h.plain) {
		uint16_t *plain = read_plain(d->data, d->size, &h, count, err, errlen);
		if (!plain)
			return USJ_EDATA;
		out->own[0] = plain;
		s.data = (const uint8_t *)plain;
		s.bytes = 2;
		s.big_endian = 0;
	} else {
		if (d->size - h.raster < count * bytes)
			return usj_fail(err, errlen, USJ_EDATA, "corrupt PNM data: file is truncated");
		s.data = d->data + h.raster;
		if (!raw_in_range(s.data, count, bytes, h.maxval))
			return usj_fail(err, errlen, USJ_EDATA, "corrupt PNM data: a sample exceeds maxval %u", h.maxval);
	}
	s.stride = (size_t)h.width * h.channels * s.bytes;
	out->width = (int)h.width;
	out->height = (int)h.height;
	out->s = s; /* raw samples point into the file in memory */
	return 0;
}

static int pnm_open(usj_decoder *d, int fd, char *err, size_t errlen)
{
	struct pnm_header h;
	int rc = usj_decoder_slurp(d, fd, err, errlen);
	if (rc == 0)
		rc = parse_header(d->data, d->size, &h, err, errlen);
	return rc ? rc : usj_check_size(h.width, h.height, d->max_pixels, err, errlen);
}

const struct usj_codec usj_pnm_codec = {"pnm", pnm_open, pnm_read, NULL};
