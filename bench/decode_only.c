/* decode_only: decode every image of a dataset with the decoders us-ingest
 * uses into their native samples (what any program must at least do), and
 * nothing else, to measure what ingestion costs beyond decoding.
 * usage: decode_only [-j N] DATASET; prints "images N seconds T images/s R". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "image.h"
#include "manifest.h"
#include "ordered.h"
#include "progress.h"

typedef struct { int code; } result;

static void work(void *ctx, int64_t i, void *slot)
{
	usj_manifest *m = ctx;
	usj_decoder *d;
	usj_native img;
	char err[300];
	result *r = slot;
	r->code = usj_decoder_open(m->items[i].file, 100000000, &d, err, sizeof err);
	if (!r->code) {
		r->code = usj_decoder_read_native(d, 0, &img, err, sizeof err);
		usj_native_free(&img);
		usj_decoder_close(d);
	}
}

static void emit(void *ctx, int64_t i, void *slot)
{
	usj_manifest *m = ctx;
	if (((result *)slot)->code)
		usj_die(USJ_EDATA, "%s does not decode", m->items[i].file);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	const char *synopsis = "decode_only [-j N] DATASET";
	int threads = 1, a = 1;
	if (argc > 2 && strcmp(argv[1], "-j") == 0) {
		threads = usj_cli_threads(synopsis, argv[2]);
		a = 3;
	}
	if (a != argc - 1)
		usj_usage_error(synopsis, "one DATASET");
	usj_manifest m;
	usj_manifest_load(&m, argv[a], NULL, NULL);
	double t0 = usj_now();
	usj_ordered_run(m.n, threads, 4 * threads, sizeof(result), work, emit, &m);
	double t = usj_now() - t0;
	printf("images %d seconds %.3f images/s %.1f\n", m.n, t, m.n / t);
	usj_manifest_free(&m);
	return 0;
}
