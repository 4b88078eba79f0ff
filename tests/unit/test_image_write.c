/* test_image_write.c: PNG and TIFF writing, read back by our decoders and by
 * Pillow; failures that leave nothing behind; many threads at once. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tiffio.h>

#include "err.h"
#include "image.h"
#include "image_write.h"
#include "mem.h"
#include "test.h"

typedef int writer(const char *path, const uint8_t *pix, int width, int height, int channels,
                   char *err, size_t errlen);

static writer *const writers[2] = {usj_write_png, usj_write_tiff};
static const char *const suffixes[2] = {"png", "tif"};

/* noise: n scrambled but reproducible bytes for seed, every value likely. */
static void noise(uint8_t *pix, size_t n, uint32_t seed)
{
	uint32_t h = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		h ^= h << 13;
		h ^= h >> 17;
		h ^= h << 5;
		pix[i] = (uint8_t)(h >> 11);
	}
}

/* reads_back: our decoder gives path as pix (h, w, ch) exactly, in format. */
static int reads_back(const char *path, const char *format, const uint8_t *pix, int w, int h, int ch)
{
	usj_decoder *d;
	usj_image img = {0};
	char err[256] = "";
	int ok = usj_decoder_open(path, 1u << 30, &d, err, sizeof err) == 0;
	if (ok) {
		ok = strcmp(usj_decoder_format(d), format) == 0 && usj_decoder_frames(d) == 1 &&
		     usj_decoder_read(d, 0, &img, err, sizeof err) == 0;
		usj_decoder_close(d);
	}
	ok = ok && img.width == w && img.height == h && img.channels == ch;
	if (!ok)
		fprintf(stderr, "#   %s: not a %dx%dx%d %s image (%s)\n", path, w, h, ch, format, err);
	for (size_t i = 0; ok && i < (size_t)w * h * ch; i++)
		if (lrintf(img.pix[i] * 255.0f) != pix[i]) {
			fprintf(stderr, "#   %s: value %zu is %g, want %u/255\n", path, i, img.pix[i], pix[i]);
			ok = 0;
		}
	usj_image_free(&img);
	return ok;
}

static const int sizes[][2] = {{1, 1}, {7, 3}, {300, 5}, {3, 7}, {40, 3000}};
#define NSIZES (int)(sizeof sizes / sizeof sizes[0])

/* round_trips: every size, grey and RGB, through writer k. */
static void round_trips(int k)
{
	for (int s = 0; s < NSIZES; s++)
		for (int ch = 1; ch <= 3; ch += 2) {
			int w = sizes[s][0], h = sizes[s][1];
			size_t n = (size_t)w * h * ch;
			uint8_t *pix = xmalloc(n), *copy = xmalloc(n);
			noise(pix, n, (uint32_t)(s * 4 + ch));
			memcpy(copy, pix, n);
			char *path = xasprintf("%s/%dx%dx%d.%s", test_scratch, w, h, ch, suffixes[k]);
			char err[256] = "";
			CHECK(writers[k](path, pix, w, h, ch, err, sizeof err) == 0);
			CHECK(memcmp(pix, copy, n) == 0); /* the caller's pixels are left alone */
			CHECK(reads_back(path, k ? "tiff" : "png", pix, w, h, ch));
			free(path);
			free(pix);
			free(copy);
		}
}

static void png_round_trips(void) { round_trips(0); }
static void tiff_round_trips(void) { round_trips(1); }

/* tiff_layout: Deflate, the right photometric, and strips of at most 64 KiB
 * that are more than one on a tall image. */
static void tiff_layout(void)
{
	for (int ch = 1; ch <= 3; ch += 2) {
		char *path = xasprintf("%s/40x3000x%d.tif", test_scratch, ch);
		TIFF *tif = TIFFOpen(path, "r");
		CHECK(tif != NULL);
		uint16_t compression = 0, photometric = 0, samples = 0, bits = 0;
		uint32_t rows = 0;
		TIFFGetField(tif, TIFFTAG_COMPRESSION, &compression);
		TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
		TIFFGetField(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
		TIFFGetField(tif, TIFFTAG_BITSPERSAMPLE, &bits);
		TIFFGetField(tif, TIFFTAG_ROWSPERSTRIP, &rows);
		CHECK(compression == COMPRESSION_ADOBE_DEFLATE && bits == 8 && samples == ch);
		CHECK(photometric == (ch == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK));
		CHECK(rows > 1 && rows * 40 * ch <= 65536 && TIFFNumberOfStrips(tif) == (3000 + rows - 1) / rows);
		CHECK(TIFFNumberOfStrips(tif) > 1);
		TIFFClose(tif);
		free(path);
	}
}

/* pillow_reads_them: Pillow, an independent decoder, reads every file the
 * round trips wrote to the same bytes, when Debian's python3-pil is there. */
static void pillow_reads_them(void)
{
	if (system("/usr/bin/python3 -c 'import PIL' 2>/dev/null") != 0) {
		printf("# python3-pil not installed: Pillow comparison skipped\n");
		return;
	}
	static const char *script =
		"import sys\nfrom PIL import Image\n"
		"for p in sys.argv[1:]:\n"
		"    im = Image.open(p)\n"
		"    print(im.format, im.mode, im.width, im.height, im.tobytes().hex())\n";
	setenv("PIL_SCRIPT", script, 1);
	char *cmd = xasprintf("cd %s && /usr/bin/python3 -c \"$PIL_SCRIPT\" *x*x*.png *x*x*.tif", test_scratch);
	FILE *p = popen(cmd, "r");
	free(cmd);
	int files = 0;
	char format[8], mode[8];
	int w, h;
	while (fscanf(p, "%7s %7s %d %d ", format, mode, &w, &h) == 4) {
		int ch = strcmp(mode, "RGB") == 0 ? 3 : 1, tiff = strcmp(format, "TIFF") == 0;
		int s = 0;
		while (s < NSIZES && !(sizes[s][0] == w && sizes[s][1] == h))
			s++;
		CHECK(s < NSIZES && (tiff || strcmp(format, "PNG") == 0) && (ch == 3 || strcmp(mode, "L") == 0));
		if (s == NSIZES)
			break;
		size_t n = (size_t)w * h * ch;
		uint8_t *want = xmalloc(n);
		noise(want, n, (uint32_t)(s * 4 + ch));
		size_t same = 0; /* read every byte, so the next line starts in step */
		for (size_t i = 0; i < n; i++) {
			unsigned v;
			same += fscanf(p, "%2x", &v) == 1 && v == want[i];
		}
		if (same != n)
			fprintf(stderr, "#   Pillow: %s %dx%d %s: %zu of %zu bytes differ\n", format, w, h, mode,
			        n - same, n);
		CHECK(same == n);
		free(want);
		files++;
	}
	CHECK(pclose(p) == 0);
	CHECK(files == 2 * 2 * NSIZES);
}

/* missing_folder_and_bad_shapes: failures that leave no file behind. */
static void missing_folder_and_bad_shapes(void)
{
	uint8_t pix[12] = {0};
	int before = test_count_files(test_scratch);
	for (int k = 0; k < 2; k++) {
		char *path = xasprintf("%s/none/a.%s", test_scratch, suffixes[k]);
		char err[256] = "";
		CHECK(writers[k](path, pix, 2, 2, 3, err, sizeof err) == USJ_EFAIL);
		CHECK(strcmp(err, "cannot create: No such file or directory") == 0);
		free(path);
		path = xasprintf("%s/bad.%s", test_scratch, suffixes[k]);
		CHECK(writers[k](path, pix, 2, 2, 2, err, sizeof err) == USJ_EDATA && strstr(err, "1 or 3 channels"));
		CHECK(writers[k](path, pix, 0, 2, 1, err, sizeof err) == USJ_EDATA);
		CHECK(writers[k](path, pix, 2, -1, 1, err, sizeof err) == USJ_EDATA);
		free(path);
	}
	CHECK(test_count_files(test_scratch) == before);
}

/* failed_write_keeps_the_old_file: writing beyond RLIMIT_FSIZE fails inside
 * libpng or libtiff; the old file stays and no temporary file is left. */
static void failed_write_keeps_the_old_file(void)
{
	char *dir = test_path("limit");
	mkdir(dir, 0777);
	enum { W = 300, H = 300 };
	uint8_t *big = xmalloc(W * H * 3), old[3] = {1, 2, 3};
	noise(big, W * H * 3, 7);
	struct rlimit saved, small;
	getrlimit(RLIMIT_FSIZE, &saved);
	small = (struct rlimit){16384, saved.rlim_max};
	signal(SIGXFSZ, SIG_IGN); /* EFBIG instead */
	for (int k = 0; k < 2; k++) {
		char *path = xasprintf("%s/a.%s", dir, suffixes[k]);
		char err[256] = "";
		CHECK(writers[k](path, old, 1, 1, 3, err, sizeof err) == 0);
		CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
		int rc = writers[k](path, big, W, H, 3, err, sizeof err);
		setrlimit(RLIMIT_FSIZE, &saved);
		CHECK(rc == USJ_EFAIL);
		CHECK(strstr(err, k ? "cannot write TIFF: " : "cannot write PNG: File too large") == err);
		CHECK(strstr(err, "File too large") != NULL);
		CHECK(reads_back(path, k ? "tiff" : "png", old, 1, 1, 3));
		free(path);
	}
	CHECK(test_count_files(dir) == 2);
	free(big);
	free(dir);
}

/* device_written_directly: PNG goes to a device as it is; TIFF cannot,
 * since libtiff seeks back, and says so. */
static void device_written_directly(void)
{
	uint8_t pix[6] = {0};
	char err[256] = "";
	CHECK(usj_write_png("/dev/null", pix, 2, 1, 3, err, sizeof err) == 0);
	CHECK(usj_write_tiff("/dev/null", pix, 2, 1, 3, err, sizeof err) == USJ_EFAIL);
	CHECK(strcmp(err, "cannot write TIFF: needs a regular file, not a pipe or a device") == 0);
	struct stat st;
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
}

/* ---- threads ---- */

#define THREADS 8
#define FILES 50

/* the size, channels and format of file i of thread id */
static void job_file(int id, int i, int *w, int *h, int *ch, int *k)
{
	*w = 1 + (id * 7 + i * 3) % 40;
	*h = 1 + (id + i * 5) % 30;
	*ch = (id + i) % 2 ? 3 : 1;
	*k = i % 2;
}

static char *job_path(int id, int i, int k)
{
	return xasprintf("%s/threads/%d-%d.%s", test_scratch, id, i, suffixes[k]);
}

static void *write_loop(void *arg)
{
	struct test_worker *j = arg;
	uint8_t pix[40 * 30 * 3];
	for (int i = 0; i < FILES; i++) {
		int w, h, ch, k;
		job_file(j->id, i, &w, &h, &ch, &k);
		noise(pix, (size_t)w * h * ch, (uint32_t)(j->id * FILES + i));
		char *path = job_path(j->id, i, k);
		char err[256];
		if (writers[k](path, pix, w, h, ch, err, sizeof err) != 0) {
			fprintf(stderr, "#   %s: %s\n", path, err);
			j->failures++;
		}
		free(path);
	}
	return NULL;
}

static void threads_write_at_once(void)
{
	char *dir = test_path("threads");
	mkdir(dir, 0777);
	CHECK(test_run_workers(write_loop, THREADS) == 0);
	CHECK(test_count_files(dir) == THREADS * FILES); /* no temporary file left */
	uint8_t pix[40 * 30 * 3];
	for (int id = 0; id < THREADS; id++)
		for (int i = 0; i < FILES; i++) {
			int w, h, ch, k;
			job_file(id, i, &w, &h, &ch, &k);
			noise(pix, (size_t)w * h * ch, (uint32_t)(id * FILES + i));
			char *path = job_path(id, i, k);
			CHECK(reads_back(path, k ? "tiff" : "png", pix, w, h, ch));
			free(path);
		}
	free(dir);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	test_scratch_make();
	RUN(png_round_trips);
	RUN(tiff_round_trips);
	RUN(tiff_layout);
	RUN(pillow_reads_them);
	RUN(missing_folder_and_bad_shapes);
	RUN(failed_write_keeps_the_old_file);
	RUN(device_written_directly);
	RUN(threads_write_at_once);
	return TEST_DONE();
}
