/* image_write.c: PNG and TIFF encoders behind one atomic-output wrapper.
 * Failures come back as exit codes with a reason, never as exits, so that a
 * writer thread can report its file and let the caller decide; libpng's
 * longjmp lands in the frame that owns its structures, and the output (a
 * temporary file) is discarded by the wrapper. */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tiffio.h>

#include "err.h"
#include "image_codec.h"
#include "image_write.h"
#include "output.h"

/* The pixels to encode. */
struct raster {
	const uint8_t *pix; /* (height, width, channels) */
	int width, height, channels;
};

/* ---- PNG ---- */

/* Where libpng's error goes. */
struct png_reason {
	char *err;
	size_t errlen;
};

static void png_write_bytes(png_structp png, png_bytep data, size_t n)
{
	if (fwrite(data, 1, n, png_get_io_ptr(png)) != n)
		png_error(png, strerror(errno));
}

static void png_on_error(png_structp png, png_const_charp msg)
{
	struct png_reason *r = png_get_error_ptr(png);
	usj_fail(r->err, r->errlen, USJ_EFAIL, "cannot write PNG: %s", msg);
	png_longjmp(png, 1);
}

/* png_on_warning: nothing libpng warns about when writing changes the file */
static void png_on_warning(png_structp png, png_const_charp msg) {}

static int encode_png(FILE *f, const struct raster *r, char *err, size_t errlen)
{
	struct png_reason reason = {err, errlen};
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &reason, png_on_error, png_on_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return usj_fail(err, errlen, USJ_EFAIL, "out of memory");
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return USJ_EFAIL;
	}
	/* the FILE is the I/O pointer, so libpng's default flush (fflush) fits it */
	png_set_write_fn(png, f, png_write_bytes, NULL);
	png_set_IHDR(png, info, (uint32_t)r->width, (uint32_t)r->height, 8,
	             r->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	size_t stride = (size_t)r->width * r->channels;
	for (int y = 0; y < r->height; y++)
		png_write_row(png, r->pix + y * stride);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

/* ---- TIFF ---- */

/* Strips of about this many bytes: room for Deflate's 32 KiB window, and a
 * small buffer for readers. */
#define STRIP_BYTES 65536

static int encode_tiff(FILE *f, const struct raster *r, char *err, size_t errlen)
{
	char msg[USJ_TIFF_MSG];
	/* libtiff seeks back to link the directory in, and checks where it lands */
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
		return usj_fail(err, errlen, USJ_EFAIL, "cannot write TIFF: needs a regular file, "
		                "not a pipe or a device");
	/* libtiff closes the descriptor it is given; f's own stays with the output */
	int fd = dup(fileno(f));
	if (fd < 0)
		return usj_fail(err, errlen, USJ_EFAIL, "cannot write TIFF: %s", strerror(errno));
	TIFF *tif = usj_tiff_fd_open(fd, "w", 0, msg);
	if (!tif) {
		close(fd);
		return usj_fail(err, errlen, USJ_EFAIL, "cannot write TIFF: %s", msg);
	}
	size_t stride = (size_t)r->width * r->channels;
	uint32_t rows = stride < STRIP_BYTES ? (uint32_t)(STRIP_BYTES / stride) : 1;
	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)r->width);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)r->height);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
	TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, r->channels);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, r->channels == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
	TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
	TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows);
	int ok = 1;
	errno = 0; /* libtiff's I/O messages leave out why: errno says */
	uint32_t height = (uint32_t)r->height;
	for (uint32_t y = 0; ok && y < height; y += rows) {
		uint32_t n = height - y < rows ? height - y : rows;
		/* libtiff takes void *; Deflate without a predictor only reads it */
		ok = TIFFWriteEncodedStrip(tif, y / rows, (void *)(r->pix + y * stride), (tmsize_t)(n * stride)) >= 0;
	}
	ok = ok && TIFFFlush(tif); /* the directory: TIFFClose would write it without a word */
	int saved = errno;
	TIFFClose(tif);
	if (ok && !msg[0])
		return 0;
	const char *what = msg[0] ? msg : "libtiff failed";
	if (saved)
		return usj_fail(err, errlen, USJ_EFAIL, "cannot write TIFF: %s (%s)", what, strerror(saved));
	return usj_fail(err, errlen, USJ_EFAIL, "cannot write TIFF: %s", what);
}

/* ---- both ---- */

typedef int encoder(FILE *f, const struct raster *r, char *err, size_t errlen);

static int write_atomically(const char *path, const struct raster *r, encoder *encode, char *err,
                            size_t errlen)
{
	if (r->width <= 0 || r->height <= 0 || (r->channels != 1 && r->channels != 3))
		return usj_fail(err, errlen, USJ_EDATA, "cannot write %dx%d pixels of %d channels: "
		                "an image needs pixels, and 1 or 3 channels", r->width, r->height, r->channels);
	usj_output *o;
	int rc = usj_output_create(path, &o, err, errlen);
	if (rc)
		return rc;
	rc = encode(usj_output_file(o), r, err, errlen);
	if (rc) {
		usj_output_discard(o);
		return rc;
	}
	return usj_output_finish(o, err, errlen);
}

int usj_write_png(const char *path, const uint8_t *pix, int width, int height, int channels,
                  char *err, size_t errlen)
{
	struct raster r = {pix, width, height, channels};
	return write_atomically(path, &r, encode_png, err, errlen);
}

int usj_write_tiff(const char *path, const uint8_t *pix, int width, int height, int channels,
                   char *err, size_t errlen)
{
	struct raster r = {pix, width, height, channels};
	return write_atomically(path, &r, encode_tiff, err, errlen);
}
