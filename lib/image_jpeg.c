/* image_jpeg.c: JPEG through libjpeg-turbo, from the file in memory. Grey
 * stays grey; YCbCr and RGB become RGB; CMYK and YCCK are converted to RGB.
 * libjpeg's warnings mean corrupt data (a premature end, a bad Huffman code)
 * that it papered over, so they make the file fail. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "err.h"
#include "image_codec.h"
#include "mem.h"

struct jpeg_messages {
	struct jpeg_error_mgr mgr; /* first: libjpeg hands back a pointer to it */
	jmp_buf jump;
	char warning[JMSG_LENGTH_MAX]; /* the first one */
	char *err;
	size_t errlen;
};

/* corrupt: USJ_EDATA with libjpeg's msg, some of which carry the prefix already. */
static int corrupt(const char *msg, char *err, size_t errlen)
{
	const char *own = "Corrupt JPEG data: ";
	if (strncmp(msg, own, strlen(own)) == 0)
		msg += strlen(own);
	return usj_fail(err, errlen, USJ_EDATA, "corrupt JPEG data: %s", msg);
}

static void on_error(j_common_ptr cinfo)
{
	struct jpeg_messages *m = (struct jpeg_messages *)cinfo->err;
	char msg[JMSG_LENGTH_MAX];
	m->mgr.format_message(cinfo, msg);
	corrupt(msg, m->err, m->errlen);
	longjmp(m->jump, 1);
}

/* on_message: count and keep warnings (level -1) quietly; ignore traces. */
static void on_message(j_common_ptr cinfo, int level)
{
	struct jpeg_messages *m = (struct jpeg_messages *)cinfo->err;
	if (level < 0 && m->mgr.num_warnings++ == 0)
		m->mgr.format_message(cinfo, m->warning);
}

/* read_rows: every scanline into raw, rows stride bytes apart. May longjmp. */
static void read_rows(j_decompress_ptr cinfo, uint8_t *raw, size_t stride)
{
	while (cinfo->output_scanline < cinfo->output_height) {
		JSAMPROW row = raw + cinfo->output_scanline * stride;
		jpeg_read_scanlines(cinfo, &row, 1);
	}
}

/* native: the decoded raw (owned by out from now) as samples. CMYK comes as
 * inks, R = (1-C)(1-K): K acts as alpha over black. Adobe's files, the usual
 * kind, store inverted inks (255 = no ink); others count ink up. */
static void native(j_decompress_ptr cinfo, uint8_t *raw, size_t stride, usj_native *out)
{
	int cmyk = cinfo->out_color_space == JCS_CMYK;
	out->width = (int)cinfo->output_width;
	out->height = (int)cinfo->output_height;
	out->s = (usj_samples){.data = raw, .stride = stride, .per_pixel = cinfo->output_components,
	                       .colour = cinfo->output_components > 1, .alpha = cmyk,
	                       .complement = cmyk && !cinfo->saw_Adobe_marker, .bytes = 1, .maxval = 255};
	out->own[0] = raw;
}

/* decode: check the header of d's file against max_pixels, then decode it
 * into out unless out is NULL. */
static int decode(usj_decoder *d, usj_native *out, char *err, size_t errlen)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_messages m = {.err = err, .errlen = errlen};
	uint8_t *volatile raw = NULL; /* set after setjmp, freed after a longjmp */
	memset(&cinfo, 0, sizeof cinfo);
	cinfo.err = jpeg_std_error(&m.mgr);
	m.mgr.error_exit = on_error;
	m.mgr.emit_message = on_message;
	if (setjmp(m.jump)) {
		jpeg_destroy_decompress(&cinfo);
		free(raw);
		return USJ_EDATA;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, d->data, d->size);
	jpeg_read_header(&cinfo, TRUE);
	int rc = usj_check_size(cinfo.image_width, cinfo.image_height, d->max_pixels, err, errlen);
	if (rc == 0 && out) {
		J_COLOR_SPACE in = cinfo.jpeg_color_space;
		cinfo.out_color_space = in == JCS_GRAYSCALE ? JCS_GRAYSCALE
		                        : in == JCS_CMYK || in == JCS_YCCK ? JCS_CMYK : JCS_RGB;
		jpeg_start_decompress(&cinfo);
		size_t stride = (size_t)cinfo.output_width * cinfo.output_components;
		raw = xmalloc(stride * cinfo.output_height);
		read_rows(&cinfo, raw, stride);
		jpeg_finish_decompress(&cinfo); /* reaches EOI, so a cut after the pixels is seen */
		if (m.mgr.num_warnings == 0) {
			native(&cinfo, raw, stride, out);
			raw = NULL;
		}
	}
	if (rc == 0 && m.mgr.num_warnings)
		rc = corrupt(m.warning, err, errlen);
	jpeg_destroy_decompress(&cinfo);
	free(raw);
	return rc;
}

static int jpeg_open(usj_decoder *d, int fd, char *err, size_t errlen)
{
	int rc = usj_decoder_slurp(d, fd, err, errlen);
	return rc ? rc : decode(d, NULL, err, errlen);
}

static int jpeg_read(usj_decoder *d, int frame, usj_native *out, char *err, size_t errlen)
{
	return decode(d, out, err, errlen);
}

const struct usj_codec usj_jpeg_codec = {"jpeg", jpeg_open, jpeg_read, NULL};
