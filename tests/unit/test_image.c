/* test_image.c: the image decoders, on fixtures written at test time with
 * libpng, libjpeg and libtiff, and by hand for PNM. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>

#include "err.h"
#include "image.h"
#include "mem.h"
#include "test.h"

#define MAX_PIXELS 100000000 /* the tools' default */


/* sample: a scrambled but reproducible value in [0, maxval]. */
static unsigned sample(int x, int y, int c, unsigned maxval)
{
	uint32_t h = (uint32_t)x * 73856093u ^ (uint32_t)y * 19349663u ^ (uint32_t)(c + 1) * 83492791u;
	h ^= h >> 13;
	h *= 0x5bd1e995u;
	h ^= h >> 15;
	return h % (maxval + 1);
}

/* smooth: an 8-bit gradient that lossy JPEG keeps closely. */
static unsigned smooth(int x, int y, int c) { return (unsigned)(20 + 3 * x + 2 * y + 40 * c); }

static float unit(unsigned v, unsigned maxval) { return (float)v / (float)maxval; }

static int decode(const char *path, uint64_t max_pixels, int frame, usj_image *img, char *err)
{
	usj_decoder *d;
	*img = (usj_image){0};
	int rc = usj_decoder_open(path, max_pixels, &d, err, 256);
	if (rc)
		return rc;
	rc = usj_decoder_read(d, frame, img, err, 256);
	usj_decoder_close(d);
	return rc;
}

/* same_pixels: img is w x h x ch, 64-byte aligned, and within tol of want. */
static int same_pixels(const usj_image *img, const float *want, int w, int h, int ch, double tol,
                       const char *what)
{
	if (!img->pix || img->width != w || img->height != h || img->channels != ch) {
		fprintf(stderr, "#   %s: got %dx%dx%d, want %dx%dx%d\n", what, img->width, img->height,
		        img->channels, w, h, ch);
		return 0;
	}
	if ((uintptr_t)img->pix & 63) {
		fprintf(stderr, "#   %s: pixels not 64-byte aligned\n", what);
		return 0;
	}
	for (size_t i = 0; i < (size_t)w * h * ch; i++)
		if (!(fabs(img->pix[i] - want[i]) <= tol)) {
			fprintf(stderr, "#   %s: value %zu is %.9g, want %.9g\n", what, i, img->pix[i], want[i]);
			return 0;
		}
	return 1;
}

/* every_prefix_fails: each proper prefix of path is refused with USJ_EDATA
 * at open or when reading any frame. */
static int every_prefix_fails(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	char *cut = test_path("prefix");
	int ok = n > 0;
	for (size_t k = 0; ok && k < n; k++) {
		f = fopen(cut, "wb");
		fwrite(buf, 1, k, f);
		fclose(f);
		usj_decoder *d;
		char err[256];
		int rc = usj_decoder_open(cut, MAX_PIXELS, &d, err, sizeof err);
		for (int i = 0; d && rc == 0 && i < usj_decoder_frames(d); i++) {
			usj_image img;
			rc = usj_decoder_read(d, i, &img, err, sizeof err);
			usj_image_free(&img);
		}
		usj_decoder_close(d);
		if (rc != USJ_EDATA) {
			fprintf(stderr, "#   %s cut to %zu of %zu bytes: exit code %d\n", path, k, n, rc);
			ok = 0;
		}
	}
	free(cut);
	return ok;
}

/* ---- PNG ---- */

static void pack_bits(uint8_t *out, const uint16_t *v, size_t n, int depth, int big_endian)
{
	memset(out, 0, (n * depth + 7) / 8);
	for (size_t i = 0; i < n; i++) {
		if (depth == 16 && big_endian) {
			out[2 * i] = (uint8_t)(v[i] >> 8);
			out[2 * i + 1] = (uint8_t)v[i];
		} else if (depth == 16) {
			memcpy(out + 2 * i, &v[i], 2);
		} else if (depth == 8) {
			out[i] = (uint8_t)v[i];
		} else {
			out[i * depth / 8] |= (uint8_t)(v[i] << (8 - depth - i * depth % 8));
		}
	}
}

static png_color palette_colour(int i) { return (png_color){(uint8_t)(16 * i), (uint8_t)(255 - 16 * i), (uint8_t)(7 * i)}; }
static uint8_t palette_alpha(int i) { return (uint8_t)(255 - 17 * i); }

/* write_png: v holds (h, w, channels) values for type and depth; a palette
 * image gets a 16-entry palette with tRNS; trns_grey >= 0 sets a grey key. */
static void write_png(const char *path, int w, int h, int type, int depth, int interlace,
                      const uint16_t *v, int trns_grey)
{
	FILE *f = fopen(path, "wb");
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	png_init_io(png, f);
	png_set_IHDR(png, info, (uint32_t)w, (uint32_t)h, depth, type, interlace,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (type == PNG_COLOR_TYPE_PALETTE) {
		png_color pal[16];
		uint8_t alpha[16];
		for (int i = 0; i < 16; i++) {
			pal[i] = palette_colour(i);
			alpha[i] = palette_alpha(i);
		}
		png_set_PLTE(png, info, pal, 16);
		png_set_tRNS(png, info, alpha, 16, NULL);
	}
	if (trns_grey >= 0) {
		png_color_16 key = {.gray = (uint16_t)trns_grey};
		png_set_tRNS(png, info, NULL, 0, &key);
	}
	png_write_info(png, info);
	int n = png_get_channels(png, info);
	uint8_t *row = xmalloc((size_t)w * n * 2);
	int passes = png_set_interlace_handling(png);
	for (int pass = 0; pass < passes; pass++)
		for (int y = 0; y < h; y++) {
			pack_bits(row, v + (size_t)y * w * n, (size_t)w * n, depth, 1);
			png_write_row(png, row);
		}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	fclose(f);
	free(row);
}

static int png_channels(int type)
{
	return type == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : type == PNG_COLOR_TYPE_RGB ? 3
	       : type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
}

/* png_case: write a w x h PNG of type and depth and check every value. */
static int png_case(int type, int depth, int interlace, int trns_grey)
{
	int w = 13, h = 7, n = png_channels(type);
	int colour = (type & PNG_COLOR_MASK_COLOR) != 0, alpha = (type & PNG_COLOR_MASK_ALPHA) != 0;
	unsigned maxval = type == PNG_COLOR_TYPE_PALETTE ? 15 : (1u << depth) - 1;
	uint16_t *v = xmalloc((size_t)w * h * n * sizeof *v);
	float *want = xmalloc((size_t)w * h * 3 * sizeof *want);
	for (int i = 0; i < w * h * n; i++)
		v[i] = (uint16_t)sample(i / n % w, i / n / w, i % n, maxval);
	if (trns_grey >= 0)
		v[1] = (uint16_t)trns_grey; /* one transparent pixel at least */
	int ch = colour ? 3 : 1;
	for (int i = 0; i < w * h; i++) {
		const uint16_t *px = v + (size_t)i * n;
		for (int c = 0; c < ch; c++) {
			float *out = want + (size_t)i * ch + c;
			if (type == PNG_COLOR_TYPE_PALETTE) {
				png_color p = palette_colour(px[0]);
				uint8_t rgb[3] = {p.red, p.green, p.blue};
				*out = unit(rgb[c], 255) * unit(palette_alpha(px[0]), 255);
			} else if (alpha) {
				*out = unit(px[c], maxval) * unit(px[ch], maxval);
			} else {
				*out = px[0] == trns_grey ? 0.0f : unit(px[c], maxval);
			}
		}
	}
	char *path = test_path("t.png");
	write_png(path, w, h, type, depth, interlace, v, trns_grey);
	usj_image img;
	char err[256] = "", what[64];
	snprintf(what, sizeof what, "PNG type %d depth %d interlace %d", type, depth, interlace);
	int rc = decode(path, MAX_PIXELS, 0, &img, err);
	if (rc)
		fprintf(stderr, "#   %s: %s\n", what, err);
	int ok = rc == 0 && same_pixels(&img, want, w, h, ch, 0, what);
	usj_image_free(&img);
	free(path);
	free(want);
	free(v);
	return ok;
}

static void png_all_types(void)
{
	CHECK(png_case(PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_GRAY, 4, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, 77));
	CHECK(png_case(PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_GRAY_ALPHA, 16, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_RGB_ALPHA, 8, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_RGB_ALPHA, 16, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_PALETTE, 4, PNG_INTERLACE_NONE, -1));
	CHECK(png_case(PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, -1));
	CHECK(png_case(PNG_COLOR_TYPE_RGB_ALPHA, 16, PNG_INTERLACE_ADAM7, -1));
}

/* small_png: a 5 x 4 RGB PNG at path. */
static void small_png(const char *path)
{
	uint16_t v[5 * 4 * 3];
	for (int i = 0; i < 60; i++)
		v[i] = (uint16_t)sample(i, 0, 0, 255);
	write_png(path, 5, 4, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, v, -1);
}

static void png_prefixes_fail(void)
{
	char *path = test_path("small.png");
	small_png(path);
	CHECK(every_prefix_fails(path));
	free(path);
}

/* ---- JPEG ---- */

/* write_jpeg: v holds (h, w, comps) 8-bit values in colour space cs;
 * full-resolution chroma at quality 100 keeps them close. */
static void write_jpeg(const char *path, int w, int h, int comps, J_COLOR_SPACE cs, const uint8_t *v,
                       int progressive)
{
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&cinfo);
	FILE *f = fopen(path, "wb");
	jpeg_stdio_dest(&cinfo, f);
	cinfo.image_width = (JDIMENSION)w;
	cinfo.image_height = (JDIMENSION)h;
	cinfo.input_components = comps;
	cinfo.in_color_space = cs;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, 100, TRUE);
	for (int c = 0; c < cinfo.num_components; c++)
		cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
	if (progressive)
		jpeg_simple_progression(&cinfo);
	jpeg_start_compress(&cinfo, TRUE);
	while (cinfo.next_scanline < cinfo.image_height) {
		JSAMPROW row = (JSAMPROW)(v + (size_t)cinfo.next_scanline * w * comps);
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	fclose(f);
}

/* jpeg_case: a smooth w x h image of comps in cs; each decoded value is
 * within tol of want_of(v). */
static int jpeg_case(const char *name, int comps, J_COLOR_SPACE cs, int progressive)
{
	int w = 24, h = 17, ch = comps == 1 ? 1 : 3;
	uint8_t *v = xmalloc((size_t)w * h * comps);
	float *want = xmalloc((size_t)w * h * ch * sizeof *want);
	for (int i = 0; i < w * h * comps; i++)
		v[i] = (uint8_t)smooth(i / comps % w, i / comps / w, i % comps);
	for (int i = 0; i < w * h; i++)
		for (int c = 0; c < ch; c++) /* CMYK: Adobe-inverted inks, as libjpeg writes an Adobe marker */
			want[i * ch + c] = comps == 4 ? unit(v[i * 4 + c], 255) * unit(v[i * 4 + 3], 255)
			                              : unit(v[i * comps + c], 255);
	char *path = test_path(name);
	write_jpeg(path, w, h, comps, cs, v, progressive);
	usj_image img;
	char err[256] = "";
	int rc = decode(path, MAX_PIXELS, 0, &img, err);
	if (rc)
		fprintf(stderr, "#   %s: %s\n", name, err);
	int ok = rc == 0 && same_pixels(&img, want, w, h, ch, 3.0 / 255, name);
	usj_image_free(&img);
	free(path);
	free(want);
	free(v);
	return ok;
}

static void jpeg_grey_rgb_cmyk(void)
{
	CHECK(jpeg_case("grey.jpg", 1, JCS_GRAYSCALE, 0));
	CHECK(jpeg_case("rgb.jpg", 3, JCS_RGB, 0));
	CHECK(jpeg_case("progressive.jpg", 3, JCS_RGB, 1));
	CHECK(jpeg_case("cmyk.jpg", 4, JCS_CMYK, 0));
}

static void small_jpeg(const char *path)
{
	uint8_t v[8 * 8];
	for (int i = 0; i < 64; i++)
		v[i] = (uint8_t)smooth(i % 8, i / 8, 0);
	write_jpeg(path, 8, 8, 1, JCS_GRAYSCALE, v, 0);
}

static void jpeg_prefixes_fail(void)
{
	char *path = test_path("small.jpg");
	small_jpeg(path);
	CHECK(every_prefix_fails(path));
	free(path);
}

/* ---- TIFF ---- */

struct tiff_spec {
	const char *name;
	uint16_t bits, samples, photometric, compression, planar, extra, predictor;
	uint32_t tile; /* 0: strips of 3 rows (16 for JPEG) */
};

static uint16_t colour_map(int c, unsigned i) { return (uint16_t)(i * 2039u + (unsigned)c * 13001u + 77u); }

static int tiff_colour_samples(const struct tiff_spec *s) { return s->photometric == PHOTOMETRIC_RGB || s->photometric == PHOTOMETRIC_YCBCR ? 3 : 1; }

/* tiff_values: page's (h, w, samples) values for s. */
static uint16_t *tiff_values(const struct tiff_spec *s, int w, int h, int page)
{
	uint16_t *v = xmalloc((size_t)w * h * s->samples * sizeof *v);
	for (int i = 0; i < w * h * s->samples; i++) {
		int x = i / s->samples % w, y = i / s->samples / w, c = i % s->samples;
		v[i] = (uint16_t)(s->compression == COMPRESSION_JPEG ? smooth(x, y, c)
		                  : sample(x, y, c + 10 * page, (1u << s->bits) - 1));
	}
	return v;
}

/* tiff_want: what the decoder should make of values v. */
static float *tiff_want(const struct tiff_spec *s, const uint16_t *v, int w, int h)
{
	int cs = tiff_colour_samples(s), ch = s->photometric == PHOTOMETRIC_PALETTE ? 3 : cs;
	unsigned maxval = (1u << s->bits) - 1;
	float *want = xmalloc((size_t)w * h * ch * sizeof *want);
	for (int i = 0; i < w * h; i++) {
		const uint16_t *px = v + (size_t)i * s->samples;
		float a = s->extra == EXTRASAMPLE_UNASSALPHA ? unit(px[cs], maxval) : 1.0f;
		for (int c = 0; c < ch; c++) {
			float x = s->photometric == PHOTOMETRIC_PALETTE ? unit(colour_map(c, px[0]), 65535)
			          : s->photometric == PHOTOMETRIC_MINISWHITE ? unit(maxval - px[c], maxval)
			          : unit(px[c], maxval);
			want[(size_t)i * ch + c] = x * a;
		}
	}
	return want;
}

/* pack_chunk: the cols x rows region at (x0, y0) of plane (-1: every sample)
 * into out, rows stride bytes apart, as s's bits. */
static void pack_chunk(const struct tiff_spec *s, const uint16_t *v, int w, int x0, int y0, int cols,
                       int rows, int plane, uint8_t *out, size_t stride)
{
	int per = plane < 0 ? s->samples : 1;
	uint16_t *row = xmalloc((size_t)cols * per * sizeof *row);
	for (int r = 0; r < rows; r++) {
		for (int c = 0; c < cols; c++)
			for (int k = 0; k < per; k++)
				row[c * per + k] = v[((size_t)(y0 + r) * w + x0 + c) * s->samples + (plane < 0 ? k : plane)];
		pack_bits(out + r * stride, row, (size_t)cols * per, s->bits, 0);
	}
	free(row);
}

static void write_tiff_page(TIFF *tif, const struct tiff_spec *s, int w, int h, const uint16_t *v)
{
	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, s->bits);
	TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, s->samples);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, s->photometric);
	TIFFSetField(tif, TIFFTAG_COMPRESSION, s->compression);
	TIFFSetField(tif, TIFFTAG_PLANARCONFIG, s->planar);
	if (s->extra)
		TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, &s->extra);
	if (s->predictor)
		TIFFSetField(tif, TIFFTAG_PREDICTOR, s->predictor);
	if (s->compression == COMPRESSION_JPEG) {
		TIFFSetField(tif, TIFFTAG_JPEGQUALITY, 100);
		TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
	}
	if (s->photometric == PHOTOMETRIC_PALETTE) {
		uint16_t *map = xmalloc(3 * 256 * sizeof *map);
		for (int c = 0; c < 3; c++)
			for (unsigned i = 0; i < 256; i++)
				map[c * 256 + i] = colour_map(c, i);
		TIFFSetField(tif, TIFFTAG_COLORMAP, map, map + 256, map + 512);
		free(map);
	}
	int planes = s->planar == PLANARCONFIG_SEPARATE ? s->samples : 1;
	if (s->tile) {
		TIFFSetField(tif, TIFFTAG_TILEWIDTH, s->tile);
		TIFFSetField(tif, TIFFTAG_TILELENGTH, s->tile);
		size_t stride = ((size_t)s->tile * (s->samples / planes) * s->bits + 7) / 8;
		uint8_t *buf = xmalloc(stride * s->tile);
		for (int p = 0; p < planes; p++)
			for (int y = 0; y < h; y += (int)s->tile)
				for (int x = 0; x < w; x += (int)s->tile) {
					memset(buf, 0, stride * s->tile);
					int cols = w - x < (int)s->tile ? w - x : (int)s->tile;
					int rows = h - y < (int)s->tile ? h - y : (int)s->tile;
					pack_chunk(s, v, w, x, y, cols, rows, planes > 1 ? p : -1, buf, stride);
					TIFFWriteTile(tif, buf, (uint32_t)x, (uint32_t)y, 0, (uint16_t)p);
				}
		free(buf);
	} else {
		TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, s->compression == COMPRESSION_JPEG ? 16 : 3);
		size_t stride = ((size_t)w * (s->samples / planes) * s->bits + 7) / 8;
		uint8_t *buf = xmalloc(stride);
		for (int p = 0; p < planes; p++)
			for (int y = 0; y < h; y++) {
				pack_chunk(s, v, w, 0, y, w, 1, planes > 1 ? p : -1, buf, stride);
				TIFFWriteScanline(tif, buf, (uint32_t)y, (uint16_t)p);
			}
		free(buf);
	}
	TIFFWriteDirectory(tif);
}

/* write_tiff: pages of s, page k of sizes[2k] x sizes[2k+1]. */
static void write_tiff(const char *path, const struct tiff_spec *s, int pages, const int *sizes)
{
	TIFF *tif = TIFFOpen(path, "w");
	for (int k = 0; k < pages; k++) {
		uint16_t *v = tiff_values(s, sizes[2 * k], sizes[2 * k + 1], k);
		write_tiff_page(tif, s, sizes[2 * k], sizes[2 * k + 1], v);
		free(v);
	}
	TIFFClose(tif);
}

static int tiff_case(const struct tiff_spec *s)
{
	int size[2] = {37, 23};
	char *path = test_path("t.tif");
	write_tiff(path, s, 1, size);
	uint16_t *v = tiff_values(s, size[0], size[1], 0);
	float *want = tiff_want(s, v, size[0], size[1]);
	int ch = s->photometric == PHOTOMETRIC_PALETTE ? 3 : tiff_colour_samples(s);
	double tol = s->compression == COMPRESSION_JPEG ? 8.0 / 255 : 0; /* chroma at half resolution */
	usj_image img;
	char err[256] = "";
	int rc = decode(path, MAX_PIXELS, 0, &img, err);
	if (rc)
		fprintf(stderr, "#   %s: %s\n", s->name, err);
	int ok = rc == 0 && same_pixels(&img, want, size[0], size[1], ch, tol, s->name);
	usj_image_free(&img);
	free(want);
	free(v);
	free(path);
	return ok;
}

static void tiff_all_layouts(void)
{
	enum { C = PLANARCONFIG_CONTIG, S = PLANARCONFIG_SEPARATE, U = EXTRASAMPLE_UNASSALPHA,
	       A = EXTRASAMPLE_ASSOCALPHA, G = PHOTOMETRIC_MINISBLACK, RGB = PHOTOMETRIC_RGB };
	static const struct tiff_spec specs[] = {
		{"grey 8 strips none", 8, 1, G, COMPRESSION_NONE, C, 0, 0, 0},
		{"grey 16 strips LZW", 16, 1, G, COMPRESSION_LZW, C, 0, 0, 0},
		{"grey 16 tiles Deflate", 16, 1, G, COMPRESSION_ADOBE_DEFLATE, C, 0, 0, 16},
		{"min-is-white 8 PackBits", 8, 1, PHOTOMETRIC_MINISWHITE, COMPRESSION_PACKBITS, C, 0, 0, 0},
		{"min-is-white 16 tiles", 16, 1, PHOTOMETRIC_MINISWHITE, COMPRESSION_NONE, C, 0, 0, 16},
		{"RGB 8 tiles Deflate", 8, 3, RGB, COMPRESSION_ADOBE_DEFLATE, C, 0, 0, 16},
		{"RGB 8 strips LZW predictor", 8, 3, RGB, COMPRESSION_LZW, C, 0, 2, 0},
		{"RGB 16 tiles LZW", 16, 3, RGB, COMPRESSION_LZW, C, 0, 0, 32},
		{"RGB 8 separate planes", 8, 3, RGB, COMPRESSION_LZW, S, 0, 0, 0},
		{"RGBA 16 unassociated", 16, 4, RGB, COMPRESSION_ADOBE_DEFLATE, C, U, 0, 0},
		{"RGBA 8 associated tiles", 8, 4, RGB, COMPRESSION_NONE, C, A, 0, 16},
		{"grey+alpha 16 separate tiles", 16, 2, G, COMPRESSION_LZW, S, U, 0, 16},
		{"palette 8 LZW", 8, 1, PHOTOMETRIC_PALETTE, COMPRESSION_LZW, C, 0, 0, 0},
		{"bilevel (RGBA path)", 1, 1, G, COMPRESSION_PACKBITS, C, 0, 0, 0},
		{"YCbCr JPEG (RGBA path)", 8, 3, PHOTOMETRIC_YCBCR, COMPRESSION_JPEG, C, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		CHECK(tiff_case(&specs[i]));
}

static const struct tiff_spec grey8 = {"grey", 8, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_NONE,
                                       PLANARCONFIG_CONTIG, 0, 0, 0};

static void tiff_pages(void)
{
	static const struct tiff_spec lzw = {"grey", 16, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_LZW,
	                                     PLANARCONFIG_CONTIG, 0, 0, 0};
	int sizes[6] = {9, 5, 9, 5, 40, 30};
	char *path = test_path("pages.tif");
	write_tiff(path, &lzw, 3, sizes);
	usj_decoder *d;
	char err[256] = "";
	CHECK(usj_decoder_open(path, 1000, &d, err, sizeof err) == 0);
	CHECK(usj_decoder_frames(d) == 3);
	CHECK(strcmp(usj_decoder_format(d), "tiff") == 0);
	for (int k = 0; k < 3; k++) { /* in an order that makes it seek back */
		int page = (k + 1) % 2;
		uint16_t *v = tiff_values(&lzw, sizes[2 * page], sizes[2 * page + 1], page);
		float *want = tiff_want(&lzw, v, sizes[2 * page], sizes[2 * page + 1]);
		usj_image img;
		CHECK(usj_decoder_read(d, page, &img, err, sizeof err) == 0);
		CHECK(same_pixels(&img, want, sizes[2 * page], sizes[2 * page + 1], 1, 0, "page"));
		usj_image_free(&img);
		free(want);
		free(v);
	}
	/* the third page is over the limit of 1000 pixels, checked when it is read */
	usj_image img;
	CHECK(usj_decoder_read(d, 2, &img, err, sizeof err) == USJ_EDATA && img.pix == NULL);
	CHECK(strstr(err, "image of 40x30 pixels exceeds the limit of 1000") != NULL);
	CHECK(usj_decoder_read(d, 3, &img, err, sizeof err) == USJ_EDATA);
	CHECK(strcmp(err, "no frame 3: the image has 3") == 0);
	CHECK(usj_decoder_read(d, 1, &img, err, sizeof err) == 0);
	usj_image_free(&img);
	usj_decoder_close(d);
	free(path);
}

static void tiff_prefixes_fail(void)
{
	int sizes[6] = {5, 4, 3, 2, 4, 3};
	char *path = test_path("small.tif");
	write_tiff(path, &grey8, 1, sizes);
	CHECK(every_prefix_fails(path));
	static const struct tiff_spec deflate = {"rgb", 8, 3, PHOTOMETRIC_RGB, COMPRESSION_ADOBE_DEFLATE,
	                                         PLANARCONFIG_CONTIG, 0, 0, 16};
	write_tiff(path, &deflate, 3, sizes);
	CHECK(every_prefix_fails(path));
	free(path);
}

/* ---- PNM ---- */

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	fwrite(data, 1, n, f);
	fclose(f);
}

#define WRITE_LITERAL(path, text) write_file(path, text, sizeof text - 1)

/* pnm_case: a file of header then raster must decode to want. */
static int pnm_case(const char *what, const char *header, const void *raster, size_t n,
                    const float *want, int w, int h, int ch)
{
	size_t hn = strlen(header);
	uint8_t *buf = xmalloc(hn + n);
	memcpy(buf, header, hn);
	memcpy(buf + hn, raster, n);
	char *path = test_path("t.pnm");
	write_file(path, buf, hn + n);
	usj_image img;
	char err[256] = "";
	int rc = decode(path, MAX_PIXELS, 0, &img, err);
	if (rc)
		fprintf(stderr, "#   %s: %s\n", what, err);
	int ok = rc == 0 && same_pixels(&img, want, w, h, ch, 0, what);
	usj_image_free(&img);
	free(path);
	free(buf);
	return ok;
}

static void pnm_types(void)
{
	const uint8_t p5[6] = {0, 1, 127, 128, 254, 255};
	float w5[6];
	for (int i = 0; i < 6; i++)
		w5[i] = unit(p5[i], 255);
	CHECK(pnm_case("P5", "P5\n# a comment\n3 # another\n2\n255\n", p5, 6, w5, 3, 2, 1));
	const uint8_t p5_16[4] = {0x00, 0x01, 0xff, 0xfe};
	const float w5_16[2] = {unit(1, 65535), unit(65534, 65535)};
	CHECK(pnm_case("P5 16-bit", "P5 2 1 65535\n", p5_16, 4, w5_16, 2, 1, 1));
	const uint8_t p5_1000[4] = {0x03, 0xe8, 0x01, 0xf4};
	const float w5_1000[2] = {1.0f, unit(500, 1000)};
	CHECK(pnm_case("P5 maxval 1000", "P5 2 1 1000\n", p5_1000, 4, w5_1000, 2, 1, 1));
	const float w2[4] = {0, unit(5, 15), unit(10, 15), 1};
	const char *p2 = "0 5\n# c\n10\n15\n";
	CHECK(pnm_case("P2", "P2\n2 2\n15\n", p2, strlen(p2), w2, 2, 2, 1));
	const float w3[6] = {1, 0, unit(3, 7), 0, 1, 0};
	const char *p3 = "7 0 3  0 7 0";
	CHECK(pnm_case("P3", "P3 2 1 7\n", p3, strlen(p3), w3, 2, 1, 3));
	const uint8_t p6[6] = {255, 0, 10, 20, 30, 40};
	float w6[6];
	for (int i = 0; i < 6; i++)
		w6[i] = unit(p6[i], 255);
	CHECK(pnm_case("P6", "P6 2 1 255\n", p6, 6, w6, 2, 1, 3));
	const uint8_t p6_16[6] = {0x12, 0x34, 0x00, 0x00, 0xff, 0xff};
	const float w6_16[3] = {unit(0x1234, 65535), 0, 1};
	CHECK(pnm_case("P6 16-bit", "P6 1 1 65535\n", p6_16, 6, w6_16, 1, 1, 3));
}

/* pnm_refused: a file of text is refused with USJ_EDATA and a reason holding why. */
static int pnm_refused(const char *text, size_t n, const char *why)
{
	char *path = test_path("bad.pnm");
	write_file(path, text, n);
	usj_image img;
	char err[256] = "";
	int rc = decode(path, MAX_PIXELS, 0, &img, err);
	int ok = rc == USJ_EDATA && strstr(err, why) && img.pix == NULL;
	if (!ok)
		fprintf(stderr, "#   %.*s: exit code %d, %s\n", (int)n, text, rc, err);
	free(path);
	return ok;
}

#define PNM_REFUSED(text, why) pnm_refused(text, sizeof text - 1, why)

static void pnm_errors(void)
{
	CHECK(PNM_REFUSED("P5 2 1 100\n\x10\x65", "a sample exceeds maxval 100"));
	CHECK(PNM_REFUSED("P2 2 1 100\n1 101\n", "exceeds maxval 100"));
	CHECK(PNM_REFUSED("P2 2 1 100\n1\n", "truncated"));
	CHECK(PNM_REFUSED("P5 2 1 0\n\0\0", "bad header"));
	CHECK(PNM_REFUSED("P5 2 1 65536\n\0\0", "bad header"));
	CHECK(PNM_REFUSED("P5 2 x 255\n\0\0", "bad header"));
	CHECK(PNM_REFUSED("P5 99999999999 1 255\n", "bad header"));
	CHECK(PNM_REFUSED("P5 0 1 255\n", "empty"));
	CHECK(PNM_REFUSED("P4 8 1\n\xff", "unsupported PNM type P4"));
	char *path = test_path("small.pgm");
	WRITE_LITERAL(path, "P5 3 2 65535\n\1\2\3\4\5\6\7\x08\x09\x0a\x0b\x0c");
	CHECK(every_prefix_fails(path));
	free(path);
}

/* ---- all formats ---- */

static void formats_and_frames(void)
{
	const char *names[] = {"small.png", "small.jpg", "small.tif", "small.pgm"};
	const char *formats[] = {"png", "jpeg", "tiff", "pnm"};
	int sizes[2] = {5, 4};
	char *paths[4];
	for (int i = 0; i < 4; i++)
		paths[i] = test_path(names[i]);
	small_png(paths[0]);
	small_jpeg(paths[1]);
	write_tiff(paths[2], &grey8, 1, sizes);
	WRITE_LITERAL(paths[3], "P5 1 1 255\n\x80");
	for (int i = 0; i < 4; i++) {
		usj_decoder *d;
		char err[256];
		CHECK(usj_decoder_open(paths[i], MAX_PIXELS, &d, err, sizeof err) == 0);
		CHECK(strcmp(usj_decoder_format(d), formats[i]) == 0 && usj_decoder_frames(d) == 1);
		usj_image img;
		CHECK(usj_decoder_read(d, 0, &img, err, sizeof err) == 0);
		usj_image_free(&img);
		CHECK(img.pix == NULL && img.width == 0);
		CHECK(usj_decoder_read(d, 0, &img, err, sizeof err) == 0); /* again */
		usj_image_free(&img);
		CHECK(usj_decoder_read(d, 1, &img, err, sizeof err) == USJ_EDATA && strstr(err, "no frame 1"));
		CHECK(usj_decoder_read(d, -1, &img, err, sizeof err) == USJ_EDATA);
		usj_decoder_close(d);
		free(paths[i]);
	}
	usj_image_free(NULL);
	usj_decoder_close(NULL);
}

/* refused_at_open: path fails to open with code and a reason holding why. */
static int refused_at_open(const char *path, uint64_t max_pixels, int code, const char *why)
{
	usj_decoder *d = (usj_decoder *)1;
	char err[256] = "";
	int rc = usj_decoder_open(path, max_pixels, &d, err, sizeof err);
	int ok = rc == code && d == NULL && strstr(err, why);
	if (!ok)
		fprintf(stderr, "#   %s: exit code %d, %s\n", path, rc, err);
	return ok;
}

static void not_images(void)
{
	char *text = test_path("notes.txt"), *empty = test_path("empty"), *missing = test_path("missing.png");
	WRITE_LITERAL(text, "hello, world\n");
	WRITE_LITERAL(empty, "");
	CHECK(refused_at_open(text, MAX_PIXELS, USJ_EDATA, "not a PNG, JPEG, TIFF or PNM image"));
	CHECK(refused_at_open(empty, MAX_PIXELS, USJ_EDATA, "empty file"));
	CHECK(refused_at_open(missing, MAX_PIXELS, USJ_EDATA, "cannot open: No such file or directory"));
	CHECK(refused_at_open(test_scratch, MAX_PIXELS, USJ_EFAIL, "cannot read: Is a directory"));
	free(text);
	free(empty);
	free(missing);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* png_crc: the CRC-32 of PNG chunks. */
static uint32_t png_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffu;
}

/* huge_png: a small PNG whose IHDR claims w x h. */
static void huge_png(const char *path, uint32_t w, uint32_t h)
{
	small_png(path);
	FILE *f = fopen(path, "r+b");
	uint8_t ihdr[33];
	CHECK(fread(ihdr, 1, sizeof ihdr, f) == sizeof ihdr);
	put_be32(ihdr + 16, w);
	put_be32(ihdr + 20, h);
	put_be32(ihdr + 29, png_crc(ihdr + 12, 17)); /* over "IHDR" and its 13 bytes */
	rewind(f);
	fwrite(ihdr, 1, sizeof ihdr, f);
	fclose(f);
}

/* huge_jpeg: a small JPEG whose frame header claims 20000 x 20000. */
static void huge_jpeg(const char *path)
{
	small_jpeg(path);
	FILE *f = fopen(path, "r+b");
	uint8_t buf[4096];
	size_t n = fread(buf, 1, sizeof buf, f);
	for (size_t i = 0; i + 9 < n; i++)
		if (buf[i] == 0xff && buf[i + 1] == 0xc0) { /* SOF0: length, precision, height, width */
			buf[i + 5] = buf[i + 7] = 0x4e;
			buf[i + 6] = buf[i + 8] = 0x20;
			break;
		}
	rewind(f);
	fwrite(buf, 1, n, f);
	fclose(f);
}

static void huge_images_refused_at_open(void)
{
	const char *limit = "image of 20000x20000 pixels exceeds the limit of 100000000: raise --max-pixels";
	char *path = test_path("huge");
	huge_png(path, 20000, 20000);
	CHECK(refused_at_open(path, MAX_PIXELS, USJ_EDATA, limit));
	huge_png(path, 3000000, 1); /* one side over the limit: libpng's own check */
	CHECK(refused_at_open(path, 1000000, USJ_EDATA, "PNG"));
	huge_jpeg(path);
	CHECK(refused_at_open(path, MAX_PIXELS, USJ_EDATA, limit));
	WRITE_LITERAL(path, "P6 20000 20000 255\n");
	CHECK(refused_at_open(path, MAX_PIXELS, USJ_EDATA, limit));
	TIFF *tif = TIFFOpen(path, "w");
	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 20000);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, 20000);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
	TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 20000);
	uint8_t row[20000] = {0};
	TIFFWriteScanline(tif, row, 0, 0); /* the rest is missing: only the header is read */
	TIFFClose(tif);
	CHECK(refused_at_open(path, MAX_PIXELS, USJ_EDATA, limit));
	/* exactly at the limit is allowed */
	small_png(path);
	usj_decoder *d;
	char err[256];
	CHECK(usj_decoder_open(path, 20, &d, err, sizeof err) == 0);
	usj_decoder_close(d);
	CHECK(refused_at_open(path, 19, USJ_EDATA, "image of 5x4 pixels exceeds the limit of 19"));
	free(path);
}

/* ---- threads ---- */

struct worker {
	const char *good, *bad, *why; /* why: the reason bad fails */
	int failures;
};

/* decode_loop: the good TIFF decodes and the damaged one fails with
 * libtiff's own message, many times over, while other threads do the same. */
static void *decode_loop(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 50; i++) {
		usj_image img;
		char err[256] = "";
		w->failures += decode(w->good, MAX_PIXELS, 0, &img, err) != 0;
		usj_image_free(&img);
		int rc = decode(w->bad, MAX_PIXELS, 0, &img, err);
		w->failures += rc != USJ_EDATA || strcmp(err, w->why) != 0;
	}
	return NULL;
}

static void threads_keep_their_errors(void)
{
	static const struct tiff_spec spec = {"rgb", 8, 3, PHOTOMETRIC_RGB, COMPRESSION_ADOBE_DEFLATE,
	                                      PLANARCONFIG_CONTIG, 0, 0, 0};
	int sizes[2] = {64, 48};
	char *good = test_path("threads.tif"), *bad = test_path("threads-bad.tif");
	write_tiff(good, &spec, 1, sizes);
	FILE *f = fopen(good, "rb");
	uint8_t buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	memset(buf + 8, 0x5a, 40); /* damage the start of the first strip */
	write_file(bad, buf, n);
	usj_image img;
	char why[256] = "";
	CHECK(decode(bad, MAX_PIXELS, 0, &img, why) == USJ_EDATA);
	CHECK(strstr(why, "corrupt TIFF data: ZIPDecode") != NULL); /* libtiff's message, not ours */
	struct worker w[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){good, bad, why, 0};
		pthread_create(&t[i], NULL, decode_loop, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(w[i].failures == 0);
	}
	free(good);
	free(bad);
}

/* ---- Pillow agrees ---- */

/* pil_agrees: Pillow decodes page of path to the same 8-bit or 16-bit values. */
static int pil_agrees(const char *path, int page)
{
	static const char *script =
		"import sys\nfrom PIL import Image\n"
		"im = Image.open(sys.argv[1]); im.seek(int(sys.argv[2]))\n"
		"if im.mode == 'P': im = im.convert('RGB')\n"
		"wide = im.mode.startswith('I')\n"
		"print(65535 if wide else 255, im.width, im.height, len(im.getbands()))\n"
		"for px in im.getdata(): print(*(px if isinstance(px, tuple) else (px,)))\n";
	setenv("PIL_SCRIPT", script, 1);
	char *cmd = xasprintf("/usr/bin/python3 -c \"$PIL_SCRIPT\" %s %d 2>/dev/null", path, page);
	FILE *p = popen(cmd, "r");
	free(cmd);
	unsigned maxval;
	int w, h, ch;
	usj_image img = {0};
	char err[256] = "";
	int ok = fscanf(p, "%u %d %d %d", &maxval, &w, &h, &ch) == 4 &&
	         decode(path, MAX_PIXELS, page, &img, err) == 0 && img.width == w && img.height == h &&
	         img.channels == ch;
	if (!ok)
		fprintf(stderr, "#   %s page %d: Pillow's and our sizes differ or one failed (%s)\n", path, page, err);
	for (size_t i = 0; ok && i < (size_t)w * h * ch; i++) {
		unsigned v = 0;
		ok = fscanf(p, "%u", &v) == 1 && lrintf(img.pix[i] * (float)maxval) == (long)v;
		if (!ok)
			fprintf(stderr, "#   %s: value %zu differs from Pillow's %u\n", path, i, v);
	}
	pclose(p);
	usj_image_free(&img);
	return ok;
}

/* pillow_agrees: an independent decoder, when Debian's python3-pil is there. */
static void pillow_agrees(void)
{
	if (system("/usr/bin/python3 -c 'import PIL' 2>/dev/null") != 0) {
		printf("# python3-pil not installed: Pillow comparison skipped\n");
		return;
	}
	int sizes[6] = {37, 23, 37, 23, 37, 23};
	static const struct tiff_spec specs[] = {
		{"grey", 8, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_LZW, PLANARCONFIG_CONTIG, 0, 0, 16},
		{"grey16", 16, 1, PHOTOMETRIC_MINISBLACK, COMPRESSION_ADOBE_DEFLATE, PLANARCONFIG_CONTIG, 0, 0, 0},
		{"rgb", 8, 3, PHOTOMETRIC_RGB, COMPRESSION_LZW, PLANARCONFIG_CONTIG, 0, 2, 0},
		{"white", 8, 1, PHOTOMETRIC_MINISWHITE, COMPRESSION_NONE, PLANARCONFIG_CONTIG, 0, 0, 0},
	};
	char *path = test_path("pil.tif");
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		write_tiff(path, &specs[i], 3, sizes);
		CHECK(pil_agrees(path, 0));
		CHECK(pil_agrees(path, 2));
	}
	free(path);
	path = test_path("pil.png");
	uint16_t v[13 * 7 * 3];
	for (int i = 0; i < 13 * 7 * 3; i++)
		v[i] = (uint16_t)sample(i, 1, 2, 255);
	write_png(path, 13, 7, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, v, -1);
	CHECK(pil_agrees(path, 0));
	for (int i = 0; i < 13 * 7; i++)
		v[i] = (uint16_t)sample(i, 1, 2, 65535);
	write_png(path, 13, 7, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE, v, -1);
	CHECK(pil_agrees(path, 0));
	free(path);
	path = test_path("pil.jpg");
	uint8_t rgb[24 * 17 * 3];
	for (int i = 0; i < 24 * 17 * 3; i++)
		rgb[i] = (uint8_t)sample(i, 0, 0, 255); /* noise: exact agreement is the point */
	write_jpeg(path, 24, 17, 3, JCS_RGB, rgb, 1);
	CHECK(pil_agrees(path, 0));
	write_jpeg(path, 24, 17, 1, JCS_GRAYSCALE, rgb, 0);
	CHECK(pil_agrees(path, 0));
	free(path);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	test_scratch_make();
	RUN(png_all_types);
	RUN(png_prefixes_fail);
	RUN(jpeg_grey_rgb_cmyk);
	RUN(jpeg_prefixes_fail);
	RUN(tiff_all_layouts);
	RUN(tiff_pages);
	RUN(tiff_prefixes_fail);
	RUN(pnm_types);
	RUN(pnm_errors);
	RUN(formats_and_frames);
	RUN(not_images);
	RUN(huge_images_refused_at_open);
	RUN(threads_keep_their_errors);
	RUN(pillow_agrees);
	return TEST_DONE();
}
