/* image.c: opening an image file, recognising its format by its first bytes,
 * and what every decoder shares: size checks and conversion to floats. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "image_codec.h"
#include "mem.h"

static const struct usj_codec *codec_for(const uint8_t *m, size_t n)
{
	static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	if (n >= 8 && memcmp(m, png, 8) == 0)
		return &usj_png_codec;
	if (n >= 3 && m[0] == 0xff && m[1] == 0xd8 && m[2] == 0xff)
		return &usj_jpeg_codec;
	/* classic TIFF (42) and BigTIFF (43), either byte order */
	if (n >= 4 && (memcmp(m, "II*\0", 4) == 0 || memcmp(m, "MM\0*", 4) == 0 ||
	               memcmp(m, "II+\0", 4) == 0 || memcmp(m, "MM\0+", 4) == 0))
		return &usj_tiff_codec;
	/* every Netpbm type, so that the PNM decoder can name the ones it refuses */
	if (n >= 3 && m[0] == 'P' && m[1] >= '1' && m[1] <= '7' && isspace(m[2]))
		return &usj_pnm_codec;
	return NULL;
}

int usj_decoder_open(const char *path, uint64_t max_pixels, usj_decoder **out,
                     char *err, size_t errlen)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	/* a file the dataset names but that is not there is bad input, not an I/O failure */
	if (fd < 0)
		return usj_fail(err, errlen, errno == ENOENT || errno == ENOTDIR ? USJ_EDATA : USJ_EFAIL,
		                "cannot open: %s", strerror(errno));
	uint8_t magic[8];
	ssize_t n = pread(fd, magic, sizeof magic, 0);
	int saved = errno;
	const struct usj_codec *codec = n > 0 ? codec_for(magic, (size_t)n) : NULL;
	if (!codec) {
		close(fd);
		if (n < 0)
			return usj_fail(err, errlen, USJ_EFAIL, "cannot read: %s", strerror(saved));
		return usj_fail(err, errlen, USJ_EDATA, n ? "not a PNG, JPEG, TIFF or PNM image" : "empty file");
	}
	usj_decoder *d = xcalloc(1, sizeof *d);
	d->codec = codec;
	d->max_pixels = max_pixels;
	d->frames = 1;
	int rc = codec->open(d, fd, err, errlen);
	if (rc) {
		usj_decoder_close(d);
		return rc;
	}
	*out = d;
	return 0;
}

int usj_decoder_slurp(usj_decoder *d, int fd, char *err, size_t errlen)
{
	struct stat st;
	/* one byte spare, so that a regular file is read without growing */
	size_t cap = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536, n = 0;
	uint8_t *buf = xmalloc(cap);
	for (;;) {
		if (n == cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int saved = errno;
			free(buf);
			close(fd);
			return usj_fail(err, errlen, USJ_EFAIL, "cannot read: %s", strerror(saved));
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	d->data = buf;
	d->size = n;
	return 0;
}

int usj_decoder_frames(const usj_decoder *d) { return d->frames; }
const char *usj_decoder_format(const usj_decoder *d) { return d->codec->name; }

int usj_decoder_read_native(usj_decoder *d, int frame, usj_native *out, char *err, size_t errlen)
{
	*out = (usj_native){0};
	if (frame < 0 || frame >= d->frames)
		return usj_fail(err, errlen, USJ_EDATA, "no frame %d: the image has %d", frame, d->frames);
	int rc = d->codec->read(d, frame, out, err, errlen);
	if (rc)
		usj_native_free(out);
	return rc;
}

int usj_decoder_read(usj_decoder *d, int frame, usj_image *img, char *err, size_t errlen)
{
	usj_native n;
	*img = (usj_image){0};
	int rc = usj_decoder_read_native(d, frame, &n, err, errlen);
	if (rc == 0)
		usj_native_to_image(&n, img);
	usj_native_free(&n);
	return rc;
}

void usj_decoder_close(usj_decoder *d)
{
	if (!d)
		return;
	if (d->codec->close)
		d->codec->close(d);
	free(d->data);
	free(d);
}

void usj_native_free(usj_native *n)
{
	if (!n)
		return;
	free(n->own[0]);
	free(n->own[1]);
	*n = (usj_native){0};
}

void usj_image_free(usj_image *img)
{
	if (!img)
		return;
	free(img->pix);
	*img = (usj_image){0};
}

int usj_check_size(uint64_t width, uint64_t height, uint64_t max_pixels, char *err, size_t errlen)
{
	if (width == 0 || height == 0)
		return usj_fail(err, errlen, USJ_EDATA, "image of %" PRIu64 "x%" PRIu64 " pixels is empty",
		                width, height);
	/* sides fit an int, and 3 float channels a size_t */
	if (width > INT_MAX || height > INT_MAX || width * height > SIZE_MAX / 16)
		return usj_fail(err, errlen, USJ_EDATA, "image of %" PRIu64 "x%" PRIu64 " pixels is too large",
		                width, height);
	if (width * height > max_pixels)
		return usj_fail(err, errlen, USJ_EDATA, "image of %" PRIu64 "x%" PRIu64 " pixels exceeds the "
		                "limit of %" PRIu64 ": raise --max-pixels if it is genuine", width, height, max_pixels);
	return 0;
}

static inline float value_at(const uint8_t *p, const usj_samples *s, const float *table)
{
	if (s->bytes == 1)
		return table[s->complement ? s->maxval - *p : *p];
	uint16_t v;
	if (s->big_endian)
		v = (uint16_t)(p[0] << 8 | p[1]);
	else
		memcpy(&v, p, sizeof v);
	return (s->complement ? s->maxval - v : v) / (float)s->maxval;
}

static void convert_row(const usj_samples *s, const uint8_t *row, size_t width, const float *table,
                        float *out)
{
	int channels = s->colour ? 3 : 1;
	size_t step = (size_t)s->per_pixel * s->bytes;
	for (size_t x = 0; x < width; x++, row += step, out += channels) {
		float a = s->alpha ? value_at(row + channels * s->bytes, s, table) : 1.0f;
		for (int c = 0; c < channels; c++)
			out[c] = value_at(row + c * s->bytes, s, table) * a;
	}
}

/* samples_to_float: rows of s, width pixels each, to floats in [0,1] at
 * out (1 or 3 channels as s->colour), alpha composited over black. */
static void samples_to_float(const usj_samples *s, int width, int rows, float *out)
{
	int channels = s->colour ? 3 : 1;
	size_t n = (size_t)width * channels;
	/* 8-bit samples by table: the same quotients, without a division each */
	float table[256];
	for (int i = 0; s->bytes == 1 && i < 256; i++)
		table[i] = (float)i / (float)s->maxval;
	for (int y = 0; y < rows; y++, out += n) {
		const uint8_t *row = s->data + (size_t)y * s->stride;
		if (s->bytes == 1 && s->per_pixel == channels && !s->complement) {
			for (size_t i = 0; i < n; i++)
				out[i] = table[row[i]];
		} else {
			convert_row(s, row, (size_t)width, table, out);
		}
	}
}

void usj_native_to_image(const usj_native *n, usj_image *img)
{
	img->width = n->width;
	img->height = n->height;
	img->channels = n->s.colour ? 3 : 1;
	img->pix = xmalloc_aligned((size_t)n->width * n->height * img->channels * sizeof(float));
	samples_to_float(&n->s, n->width, n->height, img->pix);
}
