/* checkpoint.h: model weights as a usjepa stream of kind "checkpoint"
 * (formats/checkpoint.md): the model config in the header's meta, one record
 * {"name": str, "tensor": array} per tensor, and {"tensors": n,
 * "parameters": total element count} as the trailer's summary. */
#ifndef USJ_CHECKPOINT_H
#define USJ_CHECKPOINT_H
#include <msgpack.h>
#include <stddef.h>

#include "stream.h"
#include "tensorset.h"

#define USJ_CHECKPOINT_KIND "checkpoint"
#define USJ_CHECKPOINT_MAKER "us-salt-train" /* the tool that makes checkpoints, for hints */

/* usj_checkpoint_write: ts as a checkpoint at path ("-": stdout), written
 * atomically; config is a packed msgpack map (NULL: empty) that becomes the
 * header's meta. Tensors must be <f4 or <f2. Dies on failure, as the stream
 * writer does. */
void usj_checkpoint_write(const char *path, const usj_tensorset *ts, const msgpack_sbuffer *config);

/* usj_checkpoint_load: the records of r, a started reader of a checkpoint,
 * appended to ts (names must be new to it). The config is not touched: take
 * it from usj_reader_meta(r). Returns 0, or an exit code with a one-line
 * reason in err naming the stream and the record: USJ_EDATA for a record
 * without a name or tensor, a tensor other than <f4 or <f2, a name seen
 * before, or a stream error; tensors already appended stay in ts. */
int usj_checkpoint_load(usj_reader *r, usj_tensorset *ts, char *err, size_t errlen);

/* usj_checkpoint_read: open the checkpoint at path (usj_open_input, kind
 * "checkpoint"), load its tensors into ts and pack its meta into config (an
 * initialised msgpack_sbuffer, appended to): packed, so that it outlives the
 * reader without a zone to carry, and goes back unchanged into
 * usj_checkpoint_write when resuming. Dies on failure (exit 3: bad input). */
void usj_checkpoint_read(const char *path, usj_tensorset *ts, msgpack_sbuffer *config);

#endif
