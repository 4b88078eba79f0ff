/* progress.h: a one-line progress display on a terminal; silent when
 * standard error is not a terminal (pipes, logs, CI). */
#ifndef USJ_PROGRESS_H
#define USJ_PROGRESS_H
#include <stdint.h>

typedef struct usj_progress {
	const char *what;   /* "images" */
	int64_t total;      /* 0 if unknown */
	double start, last; /* seconds */
	int on;
	char note[96];      /* shown after the rate when not empty ("loss 0.31, lr 2e-4") */
} usj_progress;

void usj_progress_start(usj_progress *p, const char *what, int64_t total);
void usj_progress_update(usj_progress *p, int64_t done);
void usj_progress_end(usj_progress *p, int64_t done);
double usj_now(void); /* monotonic seconds */

#endif
