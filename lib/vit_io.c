/* vit_io.c: configurations, parameters and foreign weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "err.h"
#include "half.h"
#include "mem.h"
#include "record.h"
#include "safetensors.h"
#include "stream.h"
#include "vit_io.h"

static void pack_blocks(msgpack_packer *pk, const usj_blocks_config *b)
{
	usj_pack_kv_int(pk, "dim", b->dim);
	usj_pack_kv_int(pk, "depth", b->depth);
	usj_pack_kv_int(pk, "heads", b->heads);
	usj_pack_kv_int(pk, "hidden", b->hidden);
	usj_pack_kv_double(pk, "eps", b->eps);
}

void usj_vit_config_pack(msgpack_packer *pk, const usj_vit_config *c)
{
	msgpack_pack_map(pk, 10);
	usj_pack_kv_int(pk, "img", c->img);
	usj_pack_kv_int(pk, "patch", c->patch);
	usj_pack_kv_int(pk, "chans", c->chans);
	pack_blocks(pk, &c->blocks);
	usj_pack_kv_bool(pk, "cls_token", c->cls_token);
	usj_pack_kv_bool(pk, "learned_pos", c->learned_pos);
}

void usj_pred_config_pack(msgpack_packer *pk, const usj_pred_config *c)
{
	msgpack_pack_map(pk, 7);
	usj_pack_kv_int(pk, "in_dim", c->in_dim);
	usj_pack_kv_int(pk, "out_dim", c->out_dim);
	pack_blocks(pk, &c->blocks);
}

/* field: an integer in [lo, hi] (or a bool as 0/1) at key of map */
static int field(const msgpack_object *map, const char *key, int lo, int hi, int *v, char *err, size_t errlen)
{
	const msgpack_object *o = map && map->type == MSGPACK_OBJECT_MAP ? usj_object_get(map, key) : NULL;
	if (o && o->type == MSGPACK_OBJECT_BOOLEAN)
		*v = o->via.boolean;
	else if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= (uint64_t)hi)
		*v = (int)o->via.u64;
	else
		return usj_fail(err, errlen, USJ_EDATA, "the model config has no integer '%s' in %d..%d", key, lo, hi);
	if (*v < lo)
		return usj_fail(err, errlen, USJ_EDATA, "the model config's '%s' is %d, below %d", key, *v, lo);
	return 0;
}

static int read_blocks(const msgpack_object *map, usj_blocks_config *b, char *err, size_t errlen)
{
	int rc;
	if ((rc = field(map, "dim", 4, 1 << 16, &b->dim, err, errlen)) ||
	    (rc = field(map, "depth", 0, 1000, &b->depth, err, errlen)) ||
	    (rc = field(map, "heads", 1, 1 << 12, &b->heads, err, errlen)) ||
	    (rc = field(map, "hidden", 1, 1 << 18, &b->hidden, err, errlen)))
		return rc;
	const msgpack_object *eps = usj_object_get(map, "eps");
	if (!eps || (eps->type != MSGPACK_OBJECT_FLOAT64 && eps->type != MSGPACK_OBJECT_FLOAT32) ||
	    !(eps->via.f64 > 0 && eps->via.f64 < 1))
		return usj_fail(err, errlen, USJ_EDATA, "the model config has no LayerNorm 'eps' in (0, 1)");
	b->eps = (float)eps->via.f64;
	if (b->dim % b->heads || b->dim % 4)
		return usj_fail(err, errlen, USJ_EDATA, "the model config's width %d is not a multiple of 4 and of its "
		                "%d heads", b->dim, b->heads);
	return 0;
}

int usj_vit_config_read(const msgpack_object *map, usj_vit_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	int rc;
	if ((rc = field(map, "img", 1, 1 << 16, &c->img, err, errlen)) ||
	    (rc = field(map, "patch", 1, 1 << 12, &c->patch, err, errlen)) ||
	    (rc = field(map, "chans", 1, 64, &c->chans, err, errlen)) ||
	    (rc = read_blocks(map, &c->blocks, err, errlen)) ||
	    (rc = field(map, "cls_token", 0, 1, &c->cls_token, err, errlen)) ||
	    (rc = field(map, "learned_pos", 0, 1, &c->learned_pos, err, errlen)))
		return rc;
	if (c->img % c->patch)
		return usj_fail(err, errlen, USJ_EDATA, "the model config's image side %d is not a multiple of its "
		                "patch %d", c->img, c->patch);
	return 0;
}

int usj_pred_config_read(const msgpack_object *map, usj_pred_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	int rc;
	if ((rc = field(map, "in_dim", 1, 1 << 16, &c->in_dim, err, errlen)) ||
	    (rc = field(map, "out_dim", 1, 1 << 16, &c->out_dim, err, errlen)))
		return rc;
	return read_blocks(map, &c->blocks, err, errlen);
}

void usj_params_export(const usj_params *ps, const float *buf, int first, int last, const char *prefix,
                       usj_tensorset *ts)
{
	for (int i = first; i < last; i++) {
		const usj_param *p = &ps->p[i];
		char name[160];
		snprintf(name, sizeof name, "%s%s", prefix, p->name);
		usj_tensor t = {.dtype = USJ_F4, .rank = p->rank, .count = p->count,
		                .nbytes = (size_t)p->count * sizeof(float)};
		memcpy(t.shape, p->shape, sizeof p->shape);
		t.data = xmalloc_aligned(t.nbytes ? t.nbytes : 1);
		memcpy(t.data, buf + p->offset, t.nbytes);
		char err[300];
		if (usj_tensorset_add(ts, name, &t, err, sizeof err))
			usj_die(USJ_EFAIL, "%s", err);
	}
}

int usj_params_import(const usj_params *ps, float *buf, int first, int last, const char *prefix,
                      const usj_tensorset *ts, char *err, size_t errlen)
{
	for (int i = first; i < last; i++) {
		const usj_param *p = &ps->p[i];
		char name[160];
		snprintf(name, sizeof name, "%s%s", prefix, p->name);
		const usj_tensor *t = usj_tensorset_find(ts, name);
		usj_dtype dt = t && t->dtype == USJ_F2 ? USJ_F2 : USJ_F4;
		int rc = usj_tensorset_check(ts, name, dt, p->rank, p->shape, err, errlen);
		if (rc)
			return rc;
		float *w = buf + p->offset;
		if (dt == USJ_F4) {
			memcpy(w, t->data, (size_t)p->count * sizeof(float));
		} else {
			const uint16_t *h = t->data;
			for (int64_t k = 0; k < p->count; k++)
				w[k] = usj_half_to_float(h[k]);
		}
	}
	return 0;
}

/* blocks_in: how many blocks.N.* groups ts holds, counting up from 0 */
static int blocks_in(const usj_tensorset *ts)
{
	int n = 0;
	char name[64];
	for (;; n++) {
		snprintf(name, sizeof name, "blocks.%d.attn.qkv.weight", n);
		if (!usj_tensorset_find(ts, name))
			return n;
	}
}

int usj_timm_config(const usj_tensorset *ts, int heads, usj_vit_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	const usj_tensor *pe = usj_tensorset_find(ts, "patch_embed.proj.weight");
	const usj_tensor *fc1 = usj_tensorset_find(ts, "blocks.0.mlp.fc1.weight");
	const usj_tensor *pos = usj_tensorset_find(ts, "pos_embed");
	if (!pe || pe->rank != 4 || pe->shape[2] != pe->shape[3])
		return usj_fail(err, errlen, USJ_EDATA, "no timm ViT here: no patch_embed.proj.weight (D, C, P, P)");
	if (!fc1 || fc1->rank != 2)
		return usj_fail(err, errlen, USJ_EDATA, "no timm ViT here: no blocks.0.mlp.fc1.weight");
	c->blocks.dim = (int)pe->shape[0];
	c->chans = (int)pe->shape[1];
	c->patch = (int)pe->shape[2];
	c->blocks.depth = blocks_in(ts);
	c->blocks.hidden = (int)fc1->shape[0];
	c->blocks.heads = heads ? heads : c->blocks.dim / 64;
	c->blocks.eps = 1e-6f;
	c->cls_token = usj_tensorset_find(ts, "cls_token") != NULL;
	if (!pos || pos->rank != 3 || pos->shape[2] != c->blocks.dim)
		return usj_fail(err, errlen, USJ_EDATA, "no pos_embed (1, N, %d): only timm ViTs with learned "
		                "positions can be imported", c->blocks.dim);
	c->learned_pos = 1;
	int64_t n = pos->shape[1] - c->cls_token, g = (int64_t)llround(sqrt((double)n));
	if (g * g != n)
		return usj_fail(err, errlen, USJ_EDATA, "pos_embed has %lld patch positions, not a square grid",
		                (long long)n);
	c->img = (int)g * c->patch;
	if (c->blocks.heads < 1 || c->blocks.dim % c->blocks.heads)
		return usj_fail(err, errlen, USJ_EDATA, "width %d does not divide into %d heads: give the model's "
		                "heads with --heads", c->blocks.dim, c->blocks.heads);
	return 0;
}

void usj_timm_fold_grey(usj_tensorset *ts)
{
	usj_tensor *pe = usj_tensorset_find(ts, "patch_embed.proj.weight");
	if (!pe || pe->rank != 4 || pe->shape[1] != 3 || pe->dtype != USJ_F4)
		return;
	int64_t D = pe->shape[0], PP = pe->shape[2] * pe->shape[3];
	float *w = pe->data; // w (D, 3, PP) -> (D, 1, PP), in place
	for (int64_t d = 0; d < D; d++)
		for (int64_t i = 0; i < PP; i++)
			w[d * PP + i] = w[(d * 3 + 0) * PP + i] + w[(d * 3 + 1) * PP + i] + w[(d * 3 + 2) * PP + i];
	pe->shape[1] = 1;
	pe->count = D * PP;
	pe->nbytes = (size_t)pe->count * sizeof(float);
}

int usj_encoder_export(const usj_vit *m, const usj_params *ps, float mean, float std, const char *path, char *err,
                       size_t errlen)
{
	usj_tensorset ts;
	usj_tensorset_init(&ts);
	usj_params_export(ps, ps->w, 0, ps->n, "", &ts);
	if (m->pos) {
		int64_t D = m->c.blocks.dim;
		usj_tensor t = {.dtype = USJ_F4, .rank = 3, .shape = {1, m->N, D}, .count = m->N * D};
		t.nbytes = (size_t)t.count * sizeof(float);
		t.data = xmalloc_aligned(t.nbytes);
		memcpy(t.data, m->pos, t.nbytes);
		if (usj_tensorset_add(&ts, "pos_embed", &t, err, errlen))
			usj_die(USJ_EFAIL, "%s", err);
	}
	usj_strmap md = {0};
	char num[32];
	usj_strmap_set(&md, "format", "pt");
	snprintf(num, sizeof num, "%d", m->c.blocks.heads);
	usj_strmap_set(&md, "heads", num);
	snprintf(num, sizeof num, "%.9g", mean);
	usj_strmap_set(&md, "mean", num);
	snprintf(num, sizeof num, "%.9g", std);
	usj_strmap_set(&md, "std", num);
	int rc = usj_safetensors_write(path, &ts, &md, err, errlen);
	usj_strmap_free(&md);
	usj_tensorset_free(&ts);
	return rc;
}

char *usj_params_checksum(const usj_params *ps, char *buf)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *b = (const unsigned char *)ps->w;
	for (size_t i = 0; i < (size_t)ps->total * sizeof(float); i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	snprintf(buf, 17, "%016llx", (unsigned long long)h);
	return buf;
}

/* is_safetensors: a safetensors file begins with a small header length and '{' */
static int is_safetensors(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char b[9];
	int yes = f && fread(b, 1, 9, f) == 9 && b[8] == '{' && b[6] == 0 && b[7] == 0;
	if (f)
		fclose(f);
	return yes;
}

void usj_encoder_load(const char *path, int heads, usj_vit *m, usj_params *ps, msgpack_sbuffer *meta, float *mean,
                      float *std)
{
	usj_tensorset ts;
	usj_tensorset_init(&ts);
	usj_vit_config c;
	char err[400];
	int safetensors = strcmp(path, "-") != 0 && is_safetensors(path);
	if (safetensors) {
		usj_strmap md = {0};
		int rc = usj_safetensors_read(path, &ts, &md, err, sizeof err);
		if (rc)
			usj_die(rc, "%s: %s", path, err);
		/* what usj_encoder_export wrote down, else the conventions of timm's ViTs */
		const char *h = usj_strmap_get(&md, "heads"), *mn = usj_strmap_get(&md, "mean"), *sd = usj_strmap_get(&md, "std");
		heads = heads ? heads : h ? atoi(h) : 0;
		*mean = mn ? strtof(mn, NULL) : 0.5f;
		*std = sd ? strtof(sd, NULL) : 0.5f;
		usj_strmap_free(&md);
		/* BF16 and F16 weights are used as f4 */
		for (int i = 0; i < ts.n; i++) {
			usj_tensor *t = &ts.items[i].t;
			if (t->dtype != USJ_F2)
				continue;
			float *w = xmalloc_aligned((size_t)t->count * sizeof(float));
			for (int64_t k = 0; k < t->count; k++)
				w[k] = usj_half_to_float(((uint16_t *)t->data)[k]);
			free(t->data);
			t->data = w;
			t->dtype = USJ_F4;
			t->nbytes = (size_t)t->count * sizeof(float);
		}
		usj_timm_fold_grey(&ts);
		if ((rc = usj_timm_config(&ts, heads, &c, err, sizeof err)))
			usj_die(rc, "%s: %s", path, err);
	} else {
		msgpack_sbuffer config;
		msgpack_sbuffer_init(&config);
		usj_checkpoint_read(path, &ts, &config);
		msgpack_unpacked u;
		msgpack_unpacked_init(&u);
		int rc = msgpack_unpack_next(&u, config.data, config.size, NULL) == MSGPACK_UNPACK_SUCCESS &&
		                 u.data.type == MSGPACK_OBJECT_MAP
		                 ? usj_vit_config_read(usj_object_get(&u.data, "encoder"), &c, err, sizeof err)
		                 : usj_fail(err, sizeof err, USJ_EDATA, "its meta is not a map");
		if (!rc) {
			const msgpack_object *norm = usj_object_get(&u.data, "normalize");
			*mean = (float)usj_map_number(norm, "mean", 0.5);
			*std = (float)usj_map_number(norm, "std", 0.5);
		}
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_destroy(&config);
		if (rc)
			usj_die(rc, "%s: %s", path, err);
	}
	if (c.chans != 1)
		usj_die(USJ_EDATA, "%s: the model takes %d channels a pixel: only grey models, or RGB ones (folded "
		        "to grey), can read ultrasound images", path, c.chans);
	memset(ps, 0, sizeof *ps);
	usj_vit_register(m, &c, ps);
	usj_params_alloc_frozen(ps);
	/* tensor by tensor, each file tensor freed once copied, so that the
	 * weights are never resident twice */
	for (int i = 0; i < ps->n; i++) {
		int rc = usj_params_import(ps, ps->w, i, i + 1, "", &ts, err, sizeof err);
		if (rc)
			usj_die(rc, "%s: %s", path, err);
		usj_tensorset_remove(&ts, ps->p[i].name);
	}
	/* a timm ViT of another kind (layer scale, registers, a norm before the
	 * blocks) has tensors a plain ViT lacks: refuse it rather than run a
	 * different network; a classifier head is simply not used */
	for (int i = 0; safetensors && i < ts.n; i++) {
		const char *name = ts.items[i].name;
		if (strncmp(name, "head.", 5) != 0)
			usj_die(USJ_EDATA, "%s: tensor '%s' is not part of a plain ViT (patch embedding, blocks, norm): "
			        "this model has parts usjepa does not run", path, name);
	}
	usj_tensorset_free(&ts);
	if (meta) {
		msgpack_packer pk;
		msgpack_packer_init(&pk, meta, msgpack_sbuffer_write);
		char sum[17];
		msgpack_pack_map(&pk, 4);
		usj_pack_kv_str(&pk, "path", path);
		usj_pack_kv_str(&pk, "format", safetensors ? "safetensors" : "checkpoint");
		usj_pack_cstr(&pk, "encoder");
		usj_vit_config_pack(&pk, &c);
		usj_pack_kv_str(&pk, "checksum", usj_params_checksum(ps, sum));
	}
}
