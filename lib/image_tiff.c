/* image_tiff.c: TIFF through libtiff, a frame per page (directory). 8 and
 * 16-bit grey, RGB and palette pages are read strip by strip or tile by tile
 * at full precision, interleaved or in separate planes; anything else libtiff
 * can render (bilevel, 4-bit, YCbCr, CMYK, ...) through its 8-bit RGBA
 * interface. Pixels are in stored order: the Orientation tag is not applied.
 * libtiff's messages go to handlers of this decoder alone (libtiff 4.5's open
 * options), so decoders in other threads keep their own; the TIFF writer
 * (image_write.c) opens its files the same way. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tiffio.h>

#include "err.h"
#include "image_codec.h"
#include "mem.h"

/* the file name given to libtiff, which starts some messages with it */
#define TIFF_NAME "TIFF"

struct tiff_state {
	TIFF *tif;
	int page;               /* the directory loaded, or -1 after a failure to load one */
	char msg[USJ_TIFF_MSG]; /* libtiff's first error since the last reset */
};

/* What decoding a page needs to know. */
struct page {
	uint32_t width, height;
	uint16_t bits, samples, photometric, planar;
	int colour_samples; /* 3 for RGB, else 1 (grey, palette index) */
	int alpha;          /* the sample after those is unassociated alpha */
};

/* How a page is cut into strips or tiles, and where they go. */
struct chunks {
	struct tiff_state *st;
	const struct page *p;
	int tiled;
	uint32_t width, height; /* of one chunk; a strip is as wide as the page */
	int planes;             /* 1, or the samples a pixel when each has its own plane */
	size_t part;            /* bytes of one pixel in one chunk */
	uint8_t *buf, *raw;     /* one decoded chunk; the page as (height, width, samples) */
};

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	char *msg = user;
	if (msg[0])
		return 1;
	int n = module && strcmp(module, TIFF_NAME) != 0 ? snprintf(msg, USJ_TIFF_MSG, "%s: ", module) : 0;
	if (n >= 0 && n < USJ_TIFF_MSG)
		vsnprintf(msg + n, USJ_TIFF_MSG - n, fmt, ap);
	return 1; /* handled: not to libtiff's global handler (stderr) */
}

/* on_warning: unknown tags and the like, which leave the pixels alone */
static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	return 1;
}

TIFF *usj_tiff_fd_open(int fd, const char *mode, uint64_t max_alloc, char *msg)
{
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
	if (!opts)
		usj_die(USJ_EFAIL, "out of memory");
	msg[0] = 0;
	TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, msg);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, NULL);
	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)max_alloc);
	TIFF *tif = TIFFFdOpenExt(fd, TIFF_NAME, mode, opts);
	TIFFOpenOptionsFree(opts);
	return tif;
}

static int corrupt(const struct tiff_state *st, const char *otherwise, char *err, size_t errlen)
{
	return usj_fail(err, errlen, USJ_EDATA, "corrupt TIFF data: %s", st->msg[0] ? st->msg : otherwise);
}

/* buffer_limit: the most bytes one buffer of a page may take, libtiff's or
 * ours. max_pixels bounds the image; this bounds what the tags may claim
 * beyond it (tile sizes, sample counts, strip byte counts). */
static uint64_t buffer_limit(uint64_t max_pixels)
{
	uint64_t limit = max_pixels > INT64_MAX / 16 ? INT64_MAX : max_pixels * 16;
	return limit < (64u << 20) ? 64u << 20 : limit;
}

/* ifd_complete: whether the current directory, its link to the next one
 * included, lies inside the file. libtiff takes a link cut off by the end of
 * the file for 0, the end of the chain, so a truncated file would pass. */
static int ifd_complete(TIFF *tif)
{
	int fd = TIFFFileno(tif);
	uint64_t off = TIFFCurrentDirOffset(tif), end;
	struct stat st;
	if (fstat(fd, &st) != 0)
		return 0;
	if (TIFFIsBigTIFF(tif)) {
		uint64_t n;
		if (pread(fd, &n, sizeof n, (off_t)off) != sizeof n)
			return 0;
		if (TIFFIsByteSwapped(tif))
			TIFFSwabLong8(&n);
		end = off + 8 + n * 20 + 8; /* libtiff read the n entries, so n is small */
	} else {
		uint16_t n;
		if (pread(fd, &n, sizeof n, (off_t)off) != sizeof n)
			return 0;
		if (TIFFIsByteSwapped(tif))
			TIFFSwabShort(&n);
		end = off + 2 + (uint64_t)n * 12 + 4;
	}
	return end <= (uint64_t)st.st_size;
}

/* describe_page: the current page, or USJ_EDATA if it is too large or its
 * samples are not unsigned integers. */
static int describe_page(TIFF *tif, struct page *p, uint64_t max_pixels, char *err, size_t errlen)
{
	uint16_t format, extra, *types;
	*p = (struct page){.photometric = UINT16_MAX}; /* none: left to the RGBA interface to refuse */
	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &p->width);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &p->height);
	int rc = usj_check_size(p->width, p->height, max_pixels, err, errlen);
	if (rc)
		return rc;
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &p->bits);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &p->samples);
	TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &p->planar);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
	TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &p->photometric);
	if (format != SAMPLEFORMAT_UINT && format != SAMPLEFORMAT_VOID)
		return usj_fail(err, errlen, USJ_EDATA, "unsupported TIFF: sample format %u "
		                "(only unsigned integers)", format);
	p->colour_samples = p->photometric == PHOTOMETRIC_RGB ? 3 : 1;
	p->alpha = TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &extra, &types) && extra &&
	           p->samples > p->colour_samples && types[0] == EXTRASAMPLE_UNASSALPHA;
	return 0; /* associated alpha needs nothing: the colours are already over black */
}

static int full_precision(const struct page *p)
{
	int photometric = p->photometric == PHOTOMETRIC_MINISBLACK || p->photometric == PHOTOMETRIC_MINISWHITE ||
	                  p->photometric == PHOTOMETRIC_RGB || p->photometric == PHOTOMETRIC_PALETTE;
	return photometric && (p->bits == 8 || p->bits == 16) && p->samples >= p->colour_samples;
}

/* read_chunk: the strip or tile at (x, y) of plane, into c->raw. */
static int read_chunk(const struct chunks *c, int plane, uint32_t x, uint32_t y, char *err, size_t errlen)
{
	TIFF *tif = c->st->tif;
	const struct page *p = c->p;
	uint32_t rows = p->height - y < c->height ? p->height - y : c->height;
	uint32_t cols = p->width - x < c->width ? p->width - x : c->width;
	size_t row_bytes = (size_t)c->width * c->part, pixel = c->part * c->planes;
	tmsize_t want = (tmsize_t)(row_bytes * (c->tiled ? c->height : rows)), got;
	if (c->tiled)
		got = TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x, y, 0, (uint16_t)plane), c->buf, want);
	else
		got = TIFFReadEncodedStrip(tif, TIFFComputeStrip(tif, y, (uint16_t)plane), c->buf, want);
	if (got != want)
		return corrupt(c->st, "a strip or tile is short", err, errlen);
	for (uint32_t r = 0; r < rows; r++) {
		const uint8_t *src = c->buf + r * row_bytes;
		uint8_t *dst = c->raw + ((size_t)(y + r) * p->width + x) * pixel + plane * c->part;
		if (c->planes == 1) {
			memcpy(dst, src, cols * pixel);
		} else {
			for (uint32_t k = 0; k < cols; k++)
				memcpy(dst + k * pixel, src + k * c->part, c->part);
		}
	}
	return 0;
}

/* read_chunks: every strip or tile of every plane into raw. */
static int read_chunks(struct tiff_state *st, const struct page *p, uint64_t limit, uint8_t *raw,
                       char *err, size_t errlen)
{
	TIFF *tif = st->tif;
	struct chunks c = {.st = st, .p = p, .tiled = TIFFIsTiled(tif), .width = p->width,
	                   .height = p->height, .raw = raw,
	                   .planes = p->planar == PLANARCONFIG_SEPARATE ? p->samples : 1};
	c.part = (size_t)p->samples * (p->bits / 8) / c.planes;
	if (c.tiled) {
		TIFFGetField(tif, TIFFTAG_TILEWIDTH, &c.width);
		TIFFGetField(tif, TIFFTAG_TILELENGTH, &c.height);
	} else {
		uint32_t rows;
		TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows);
		c.height = rows < p->height ? rows : p->height;
	}
	uint64_t size = (uint64_t)c.width * c.height * c.part;
	if (c.width == 0 || c.height == 0 || size > limit)
		return usj_fail(err, errlen, USJ_EDATA, "corrupt TIFF data: %s of %ux%u pixels",
		                c.tiled ? "tiles" : "strips", c.width, c.height);
	c.buf = xmalloc(size);
	int rc = 0;
	for (int plane = 0; rc == 0 && plane < c.planes; plane++)
		for (uint32_t y = 0; rc == 0 && y < p->height; y += c.height)
			for (uint32_t x = 0; rc == 0 && x < p->width; x += c.width)
				rc = read_chunk(&c, plane, x, y, err, errlen);
	free(c.buf);
	return rc;
}

static unsigned native_sample(const uint8_t *p, int bytes)
{
	uint16_t v;
	if (bytes == 1)
		return *p;
	memcpy(&v, p, sizeof v);
	return v;
}

/* expand_palette: indices (and alpha) in raw to 16-bit RGB (and alpha), or
 * NULL without a colour map. A map whose entries all fit in 8 bits comes from
 * an old writer that stored 8-bit values, as libtiff itself assumes. */
static uint16_t *expand_palette(TIFF *tif, const struct page *p, const uint8_t *raw)
{
	uint16_t *map[3];
	if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &map[0], &map[1], &map[2]))
		return NULL;
	size_t entries = (size_t)1 << p->bits, n = (size_t)p->width * p->height;
	unsigned scale = 257;
	for (size_t i = 0; i < entries; i++)
		if (map[0][i] > 255 || map[1][i] > 255 || map[2][i] > 255)
			scale = 1;
	int bytes = p->bits / 8, out = 3 + p->alpha;
	uint16_t *rgb = xmalloc(n * out * sizeof *rgb);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *px = raw + i * p->samples * bytes;
		unsigned index = native_sample(px, bytes);
		for (int c = 0; c < 3; c++)
			rgb[i * out + c] = (uint16_t)(map[c][index] * scale);
		if (p->alpha)
			rgb[i * out + 3] = (uint16_t)(native_sample(px + bytes, bytes) * (bytes == 1 ? 257 : 1));
	}
	return rgb;
}

/* invert_grey: min-is-white to min-is-black, in place. */
static void invert_grey(uint8_t *raw, const struct page *p)
{
	size_t n = (size_t)p->width * p->height;
	uint16_t *wide = (uint16_t *)raw; /* xmalloc'd: aligned */
	for (size_t i = 0; i < n; i++) {
		if (p->bits == 8)
			raw[i * p->samples] = (uint8_t)(255 - raw[i * p->samples]);
		else
			wide[i * p->samples] = (uint16_t)(65535 - wide[i * p->samples]);
	}
}

/* native: the page's samples, in raw, as out, which owns raw from now. */
static int native(struct tiff_state *st, const struct page *p, uint8_t *raw, usj_native *out,
                  char *err, size_t errlen)
{
	int bytes = p->bits / 8;
	out->own[0] = raw;
	out->width = (int)p->width;
	out->height = (int)p->height;
	out->s = (usj_samples){.data = raw, .stride = (size_t)p->width * p->samples * bytes,
	                       .per_pixel = p->samples, .colour = p->colour_samples == 3, .alpha = p->alpha,
	                       .bytes = bytes, .maxval = bytes == 2 ? 65535 : 255};
	if (p->photometric == PHOTOMETRIC_PALETTE) {
		uint16_t *rgb = expand_palette(st->tif, p, raw);
		if (!rgb)
			return usj_fail(err, errlen, USJ_EDATA, "corrupt TIFF data: a palette image without a colour map");
		out->own[1] = rgb;
		out->s = (usj_samples){.data = (const uint8_t *)rgb, .stride = (size_t)p->width * (3 + p->alpha) * 2,
		                       .per_pixel = 3 + p->alpha, .colour = 1, .alpha = p->alpha, .bytes = 2,
		                       .maxval = 65535};
	}
	if (p->photometric == PHOTOMETRIC_MINISWHITE)
		invert_grey(raw, p);
	return 0;
}

/* read_samples: a page libtiff need not convert, at full precision. */
static int read_samples(struct tiff_state *st, const struct page *p, uint64_t limit, usj_native *out,
                        char *err, size_t errlen)
{
	uint64_t size = (uint64_t)p->width * p->height * p->samples * (p->bits / 8);
	if (size > limit)
		return usj_fail(err, errlen, USJ_EDATA, "unsupported TIFF: %u samples a pixel", p->samples);
	uint8_t *raw = xmalloc(size);
	int rc = read_chunks(st, p, limit, raw, err, errlen);
	if (rc) {
		free(raw);
		return rc;
	}
	return native(st, p, raw, out, err, errlen);
}

/* read_rgba: any other page libtiff can render, at 8 bits. */
static int read_rgba(struct tiff_state *st, const struct page *p, usj_native *out, char *err, size_t errlen)
{
	TIFFRGBAImage rgba;
	char why[1024];
	if (!TIFFRGBAImageBegin(&rgba, st->tif, 1, why))
		return usj_fail(err, errlen, USJ_EDATA, "unsupported TIFF: %s", why);
	rgba.req_orientation = rgba.orientation; /* stored order, as read_samples gives */
	uint32_t *raster = xmalloc((size_t)p->width * p->height * sizeof *raster);
	out->own[0] = raster;
	int ok = TIFFRGBAImageGet(&rgba, raster, p->width, p->height);
	TIFFRGBAImageEnd(&rgba);
	/* ABGR words, so R, G, B, A bytes (little-endian); colours already over black */
	int grey = p->photometric == PHOTOMETRIC_MINISBLACK || p->photometric == PHOTOMETRIC_MINISWHITE;
	out->width = (int)p->width;
	out->height = (int)p->height;
	out->s = (usj_samples){.data = (const uint8_t *)raster, .stride = (size_t)p->width * 4,
	                       .per_pixel = 4, .colour = !grey, .bytes = 1, .maxval = 255};
	return ok ? 0 : corrupt(st, "unreadable image data", err, errlen);
}

static int tiff_read(usj_decoder *d, int frame, usj_native *out, char *err, size_t errlen)
{
	struct tiff_state *st = d->state;
	st->msg[0] = 0;
	if (st->page != frame) {
		/* TIFFSetDirectory walks the chain from the first page; the next is a step */
		int next = st->page >= 0 && frame == st->page + 1;
		if (!(next ? TIFFReadDirectory(st->tif) : TIFFSetDirectory(st->tif, (tdir_t)frame))) {
			st->page = -1;
			return corrupt(st, "cannot read the page's directory", err, errlen);
		}
		st->page = frame;
	}
	struct page p;
	int rc = describe_page(st->tif, &p, d->max_pixels, err, errlen);
	if (rc)
		return rc;
	if (full_precision(&p))
		return read_samples(st, &p, buffer_limit(d->max_pixels), out, err, errlen);
	return read_rgba(st, &p, out, err, errlen);
}

/* check_pages: count the pages, and make sure the last directory is whole
 * (the one a cut shortens) and the first fits max_pixels. */
static int check_pages(usj_decoder *d, struct tiff_state *st, char *err, size_t errlen)
{
	tdir_t pages = TIFFNumberOfDirectories(st->tif);
	if (st->msg[0] || pages == 0 || pages > INT_MAX)
		return corrupt(st, "bad directory chain", err, errlen);
	d->frames = (int)pages;
	if (pages > 1 && !TIFFSetDirectory(st->tif, pages - 1))
		return corrupt(st, "cannot read the last page's directory", err, errlen);
	if (!ifd_complete(st->tif))
		return corrupt(st, "file is truncated", err, errlen);
	if (pages > 1 && !TIFFSetDirectory(st->tif, 0))
		return corrupt(st, "cannot read the first page's directory", err, errlen);
	struct page p;
	return describe_page(st->tif, &p, d->max_pixels, err, errlen);
}

static int tiff_open(usj_decoder *d, int fd, char *err, size_t errlen)
{
	struct tiff_state *st = xcalloc(1, sizeof *st);
	d->state = st;
	st->tif = usj_tiff_fd_open(fd, "r", buffer_limit(d->max_pixels), st->msg);
	if (!st->tif) {
		close(fd); /* libtiff closes it only once open */
		return corrupt(st, "cannot read the header", err, errlen);
	}
	return check_pages(d, st, err, errlen);
}

static void tiff_close(usj_decoder *d)
{
	struct tiff_state *st = d->state;
	if (st && st->tif)
		TIFFClose(st->tif);
	free(st);
}

const struct usj_codec usj_tiff_codec = {"tiff", tiff_open, tiff_read, tiff_close};
