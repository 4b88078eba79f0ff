/* output.h: output files written atomically: to a temporary name beside the
 * target, renamed into place only when complete. An existing device or FIFO
 * (-o /dev/null) is written directly. "-" or NULL is stdout. */
#ifndef USJ_OUTPUT_H
#define USJ_OUTPUT_H
#include <stdio.h>

typedef struct usj_output usj_output;

/* usj_output_open: start writing path; dies (exit 1) if it cannot. */
usj_output *usj_output_open(const char *path);
FILE *usj_output_file(usj_output *o);
const char *usj_output_name(const usj_output *o); /* "standard output" for "-" */
/* usj_output_commit: flush, sync and rename into place (stdout: flush only);
 * dies on any write error, leaving no file behind. Frees o. */
void usj_output_commit(usj_output *o);
/* usj_output_remove_unfinished: unlink every temporary file not yet
 * committed. Async-signal-safe; called on fatal errors and signals. */
void usj_output_remove_unfinished(void);

#endif
