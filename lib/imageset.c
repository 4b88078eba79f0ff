/* imageset.c: loading, holding out, and drawing epochs. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "imageset.h"
#include "mem.h"
#include "rng.h"

static const usj_imageset *sorting; /* qsort has no context argument */
static int by_id_order(const void *a, const void *b)
{
	return strcmp(sorting->ids[*(const int *)a], sorting->ids[*(const int *)b]);
}

static int dataset_of(usj_imageset *s, const char *name)
{
	for (int i = 0; i < s->ndatasets; i++)
		if (strcmp(s->datasets[i], name) == 0)
			return i;
	s->datasets = xrealloc(s->datasets, (size_t)(s->ndatasets + 1) * sizeof *s->datasets);
	s->datasets[s->ndatasets] = xstrdup(name);
	return s->ndatasets++;
}

void usj_imageset_load(usj_imageset *s, const char *path, const char *splits)
{
	memset(s, 0, sizeof *s);
	usj_reader *r = usj_open_input(path, "images", "us-ingest or us-phantom");
	msgpack_sbuffer_init(&s->meta);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &s->meta, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *usj_reader_meta(r));
	usj_record rec;
	usj_record_init(&rec);
	int cap = 0;
	while (usj_read(r, &rec)) {
		const usj_tensor *img = usj_record_tensor(&rec, "image"), *reg = usj_record_tensor(&rec, "region");
		const char *id = usj_record_str(&rec, "id"), *split = usj_record_str(&rec, "split");
		long long k = (long long)usj_reader_records(r);
		if (splits && split && !usj_in_list(splits, split))
			continue;
		if (!id)
			usj_die(USJ_EDATA, "%s: record %lld has no id", usj_reader_name(r), k);
		if (!img || img->dtype != USJ_U1 || img->rank != 2 || img->shape[0] != img->shape[1])
			usj_die(USJ_EDATA, "%s: record %s has no square uint8 image", usj_reader_name(r), id);
		if (!s->S)
			s->S = (int)img->shape[0];
		if (img->shape[0] != s->S)
			usj_die(USJ_EDATA, "%s: record %s is %lldx%lld, the first was %dx%d: ingest everything with one --size",
			        usj_reader_name(r), id, (long long)img->shape[0], (long long)img->shape[0], s->S, s->S);
		if (reg && (reg->dtype != USJ_U1 || reg->count != img->count))
			usj_die(USJ_EDATA, "%s: record %s has a region unlike its image", usj_reader_name(r), id);
		if (s->n == cap) {
			cap = cap ? 2 * cap : 1024;
			s->images = xrealloc(s->images, (size_t)cap * s->S * s->S);
			s->regions = xrealloc(s->regions, (size_t)cap * s->S * s->S);
			s->ids = xrealloc(s->ids, (size_t)cap * sizeof *s->ids);
			s->dataset = xrealloc(s->dataset, (size_t)cap * sizeof *s->dataset);
		}
		size_t px = (size_t)s->S * s->S, at = (size_t)s->n * px;
		memcpy(s->images + at, img->data, px);
		if (reg)
			for (size_t i = 0; i < px; i++)
				s->regions[at + i] = ((const uint8_t *)reg->data)[i] != 0;
		else
			memset(s->regions + at, 1, px);
		s->ids[s->n] = xstrdup(id);
		const char *ds = usj_record_str(&rec, "dataset");
		s->dataset[s->n] = dataset_of(s, ds ? ds : "");
		s->n++;
	}
	usj_record_free(&rec);
	usj_reader_close(r);
	if (!s->n)
		usj_die(USJ_EDATA, "%s has no images to train on", path);
	s->held_out = xcalloc((size_t)s->n, 1);
	/* ids must be unique: targets are joined by them */
	s->by_id = xmalloc((size_t)s->n * sizeof *s->by_id);
	for (int i = 0; i < s->n; i++)
		s->by_id[i] = i;
	sorting = s;
	qsort(s->by_id, (size_t)s->n, sizeof *s->by_id, by_id_order);
	for (int i = 1; i < s->n; i++)
		if (strcmp(s->ids[s->by_id[i - 1]], s->ids[s->by_id[i]]) == 0)
			usj_die(USJ_EDATA, "%s: the id '%s' appears twice: ids must be unique", path, s->ids[s->by_id[i]]);
}

void usj_imageset_hold_out(usj_imageset *s, double fraction, uint64_t seed)
{
	for (int i = 0; i < s->n; i++) {
		usj_rng r;
		usj_rng_seed_key(&r, seed, s->ids[i]);
		s->held_out[i] = usj_rng_uniform(&r) < fraction;
	}
}

void usj_imageset_free(usj_imageset *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->ids[i]);
	for (int i = 0; i < s->ndatasets; i++)
		free(s->datasets[i]);
	free(s->images), free(s->regions), free(s->ids), free(s->dataset), free(s->datasets), free(s->held_out);
	free(s->by_id);
	msgpack_sbuffer_destroy(&s->meta);
	memset(s, 0, sizeof *s);
}

int usj_imageset_find(const usj_imageset *s, const char *id)
{
	int lo = 0, hi = s->n - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(s->ids[s->by_id[mid]], id);
		if (!c)
			return s->by_id[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

int usj_epoch_size(const usj_imageset *s, int cap)
{
	int total = 0;
	for (int d = 0; d < s->ndatasets; d++) {
		int n = 0;
		for (int i = 0; i < s->n; i++)
			n += s->dataset[i] == d && !s->held_out[i];
		total += cap > 0 && n > cap ? cap : n;
	}
	return total;
}

static void shuffle(int *a, int n, usj_rng *r)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)usj_rng_below(r, (uint64_t)i + 1), t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

void usj_epoch_draw(usj_epoch *e, const usj_imageset *s, int cap, uint64_t seed, int64_t epoch)
{
	usj_rng r;
	usj_rng_seed(&r, seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)(epoch + 1) * 0xBF58476D1CE4E5B9ull);
	e->n = 0;
	e->order = xmalloc((size_t)(s->n ? s->n : 1) * sizeof *e->order);
	int *pool = xmalloc((size_t)(s->n ? s->n : 1) * sizeof *pool);
	for (int d = 0; d < s->ndatasets; d++) {
		int n = 0;
		for (int i = 0; i < s->n; i++)
			if (s->dataset[i] == d && !s->held_out[i])
				pool[n++] = i;
		shuffle(pool, n, &r);
		int take = cap > 0 && n > cap ? cap : n;
		memcpy(e->order + e->n, pool, (size_t)take * sizeof *pool);
		e->n += take;
	}
	shuffle(e->order, e->n, &r);
	free(pool);
}

void usj_epoch_free(usj_epoch *e)
{
	free(e->order);
	e->order = NULL;
	e->n = 0;
}
