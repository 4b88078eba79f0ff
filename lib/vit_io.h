/* vit_io.h: models in and out of files. A model's configuration lives in a
 * checkpoint's meta (formats/checkpoint.md); its parameters move to and from
 * a tensorset under timm's names; a timm ViT from a .safetensors file (which
 * carries no configuration) is recognised from its tensors' shapes. */
#ifndef USJ_VIT_IO_H
#define USJ_VIT_IO_H
#include <msgpack.h>
#include <stddef.h>

#include "params.h"
#include "tensorset.h"
#include "vit.h"

/* Configurations as maps: encoder {img, patch, chans, dim, depth, heads,
 * hidden, eps, cls_token, learned_pos}, predictor {in_dim, out_dim, dim,
 * depth, heads, hidden, eps}. */
void usj_vit_config_pack(msgpack_packer *pk, const usj_vit_config *c);
void usj_pred_config_pack(msgpack_packer *pk, const usj_pred_config *c);
/* usj_vit_config_read, usj_pred_config_read: from map (a checkpoint's
 * "encoder" or "predictor" entry); 0, or USJ_EDATA with a reason in err
 * naming the missing or impossible field. */
int usj_vit_config_read(const msgpack_object *map, usj_vit_config *c, char *err, size_t errlen);
int usj_pred_config_read(const msgpack_object *map, usj_pred_config *c, char *err, size_t errlen);

/* usj_params_export: parameters first .. last-1 of the buffer buf (ps->w,
 * ->m, ->v, or another model's weights laid out alike) appended to ts as
 * <f4 tensors named prefix + their names, of their shapes. */
void usj_params_export(const usj_params *ps, const float *buf, int first, int last, const char *prefix,
                       usj_tensorset *ts);
/* usj_params_import: the same into buf from ts (<f4, or <f2 widened), each
 * tensor present with its shape; 0, or USJ_EDATA with a reason. */
int usj_params_import(const usj_params *ps, float *buf, int first, int last, const char *prefix,
                      const usj_tensorset *ts, char *err, size_t errlen);

/* usj_timm_config: the encoder a timm ViT's tensors describe: width, patch
 * and channels from patch_embed.proj.weight, depth from the blocks, MLP width
 * from fc1, a CLS token if cls_token is there, the image side from
 * pos_embed's length (learned positions). Heads cannot be seen in the
 * weights: heads, or width / 64 (timm's ViTs) when 0. */
int usj_timm_config(const usj_tensorset *ts, int heads, usj_vit_config *c, char *err, size_t errlen);
/* usj_timm_fold_grey: a 3-channel patch embedding (D, 3, P, P) becomes
 * (D, 1, P, P) by summing over the channels, so that a grey image gives the
 * tokens the RGB image with that grey in every channel would. */
void usj_timm_fold_grey(usj_tensorset *ts);

/* usj_encoder_load: the encoder of path, a checkpoint stream or a timm
 * .safetensors file (told apart by their first bytes): its config (heads as
 * usj_timm_config for safetensors, unless its __metadata__ names them), its
 * parameters registered in ps (fresh) and loaded, frozen: weights only, no
 * gradient buffer (usj_params_alloc_frozen). meta, if not NULL, receives a
 * packed map describing the model for provenance: {"path", "format", "encoder": config, "checksum"}; mean
 * and std the pixel normalisation the model was trained with: the
 * checkpoint's "normalize" {mean, std} or the safetensors __metadata__'s
 * mean and std, else 0.5 and 0.5 (timm's ViTs). A model whose input is not
 * one channel after folding, or a safetensors ViT with tensors a plain ViT
 * lacks, is refused. Dies with exit 3 on a bad file. */
void usj_encoder_load(const char *path, int heads, usj_vit *m, usj_params *ps, msgpack_sbuffer *meta, float *mean,
                      float *std);

/* usj_encoder_export: the encoder m as a safetensors file in timm's layout
 * (fixed sin-cos positions written out as pos_embed (1, N, D), as a timm
 * ViT without a class token holds them), with __metadata__ {"format": "pt",
 * "heads", "mean", "std"} so that the file comes back in unchanged. 0, or
 * an exit code with a reason in err. */
int usj_encoder_export(const usj_vit *m, const usj_params *ps, float mean, float std, const char *path, char *err,
                       size_t errlen);

/* usj_params_checksum: FNV-1a 64 of the weights' bytes, as hex, into buf (17). */
char *usj_params_checksum(const usj_params *ps, char *buf);

#endif
