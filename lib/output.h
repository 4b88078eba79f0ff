/* output.h: output files written atomically: to a temporary name beside the
 * target, renamed into place only when complete. An existing device or FIFO
 * (-o /dev/null) is written directly. "-" or NULL is stdout. Outputs may be
 * opened, committed and discarded from several threads at once. */
#ifndef USJ_OUTPUT_H
#define USJ_OUTPUT_H
#include <stddef.h>
#include <stdio.h>

typedef struct usj_output usj_output;

/* usj_output_open: start writing path; dies (exit 1) if it cannot. */
usj_output *usj_output_open(const char *path);
/* usj_output_create: usj_output_open for callers that handle failure: 0, or
 * USJ_EFAIL with a one-line reason in err that does not repeat the path. */
int usj_output_create(const char *path, usj_output **out, char *err, size_t errlen);
FILE *usj_output_file(usj_output *o);
const char *usj_output_name(const usj_output *o); /* "standard output" for "-" */
/* usj_output_commit: flush, sync and rename into place (stdout: flush only);
 * dies on any write error, leaving no file behind. Frees o. */
void usj_output_commit(usj_output *o);
/* usj_output_finish: usj_output_commit that returns 0, or USJ_EFAIL with the
 * reason in err after removing the temporary file. Frees o either way. */
int usj_output_finish(usj_output *o, char *err, size_t errlen);
/* usj_output_discard: give up on o: close it and remove its temporary file,
 * leaving the target as it was (a device keeps what it was sent). Frees o. */
void usj_output_discard(usj_output *o);
/* usj_outdir_open: start an output folder at path, which must not exist
 * (exit 2 if it does): a hidden temporary folder beside it is made and its
 * name returned (malloc'ed); files go in there, and usj_outdir_commit
 * renames it into place. One at a time. */
char *usj_outdir_open(const char *path);
void usj_outdir_commit(char *tmp, const char *path); /* frees tmp */
/* usj_output_remove_unfinished: unlink every temporary file not yet
 * committed; outputs created afterwards fail. Async-signal-safe; called on
 * fatal errors and signals. */
void usj_output_remove_unfinished(void);

#endif
