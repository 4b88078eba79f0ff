/* image_png.c: PNG through libpng, from the file in memory. Every colour type
 * and depth becomes 8 or 16-bit grey or RGB, with alpha when the file has
 * any (an alpha channel, or tRNS on a palette or single colour). */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "image_codec.h"
#include "mem.h"

/* The file being read, and where libpng's error goes. */
struct png_source {
	const uint8_t *data;
	size_t size, pos;
	char *err;
	size_t errlen;
};

static void read_bytes(png_structp png, png_bytep out, size_t n)
{
	struct png_source *src = png_get_io_ptr(png);
	if (n > src->size - src->pos)
		png_error(png, "file is truncated");
	memcpy(out, src->data + src->pos, n);
	src->pos += n;
}

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_source *src = png_get_error_ptr(png);
	snprintf(src->err, src->errlen, "corrupt PNG data: %s", msg);
	png_longjmp(png, 1);
}

/* on_warning: libpng warns about damaged ancillary chunks (colour profiles,
 * text), which do not change the pixels; the caller wants no stderr noise. */
static void on_warning(png_structp png, png_const_charp msg) {}

/* read_pixels: decode the image into buf (row pointers, then the rows),
 * which out then owns. May longjmp. */
static void read_pixels(png_structp png, png_infop info, void *buf, usj_native *out)
{
	uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
	size_t stride = png_get_rowbytes(png, info);
	png_bytep *rows = buf;
	for (uint32_t y = 0; y < height; y++)
		rows[y] = (png_bytep)(rows + height) + y * stride;
	png_read_image(png, rows);
	png_read_end(png, NULL); /* reaches IEND, so a cut after the pixels is seen */
	int type = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
	out->width = (int)width;
	out->height = (int)height;
	out->s = (usj_samples){
		.data = rows[0], .stride = stride, .per_pixel = png_get_channels(png, info),
		.colour = (type & PNG_COLOR_MASK_COLOR) != 0, .alpha = (type & PNG_COLOR_MASK_ALPHA) != 0,
		.bytes = depth / 8, .big_endian = 1, .maxval = depth == 16 ? 65535 : 255,
	};
	out->own[0] = buf;
}

/* decode: check the header of d's file against max_pixels, then decode it
 * into out unless out is NULL. */
static int decode(usj_decoder *d, usj_native *out, char *err, size_t errlen)
{
	struct png_source src = {d->data, d->size, 0, err, errlen};
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	void *volatile buf = NULL; /* set after setjmp, freed after a longjmp */
	if (!info) {
		png_destroy_read_struct(&png, NULL, NULL);
		return usj_fail(err, errlen, USJ_EFAIL, "out of memory");
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_read_struct(&png, &info, NULL);
		free(buf);
		return USJ_EDATA;
	}
	png_set_read_fn(png, &src, read_bytes);
	/* no side may exceed max_pixels; libpng's default limit is 1000000 */
	uint32_t side = d->max_pixels < PNG_UINT_31_MAX ? (uint32_t)d->max_pixels : PNG_UINT_31_MAX;
	png_set_user_limits(png, side, side);
	png_read_info(png, info);
	uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
	int rc = usj_check_size(width, height, d->max_pixels, err, errlen);
	if (rc == 0 && out) {
		png_set_expand(png); /* palette to RGB, grey to 8 bits, tRNS to alpha */
		png_set_interlace_handling(png);
		png_read_update_info(png, info);
		buf = xmalloc(height * (sizeof(png_bytep) + png_get_rowbytes(png, info)));
		read_pixels(png, info, buf, out);
		buf = NULL;
	}
	png_destroy_read_struct(&png, &info, NULL);
	free(buf);
	return rc;
}

static int png_open(usj_decoder *d, int fd, char *err, size_t errlen)
{
	int rc = usj_decoder_slurp(d, fd, err, errlen);
	return rc ? rc : decode(d, NULL, err, errlen);
}

static int png_read(usj_decoder *d, int frame, usj_native *out, char *err, size_t errlen)
{
	return decode(d, out, err, errlen);
}

const struct usj_codec usj_png_codec = {"png", png_open, png_read, NULL};
