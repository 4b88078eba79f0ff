/* err.h: exit codes and fatal errors shared by every tool. */
#ifndef USJ_ERR_H
#define USJ_ERR_H
#include <stddef.h>

enum usj_exit {
	USJ_OK = 0,     /* success */
	USJ_EFAIL = 1,  /* runtime failure: I/O, memory, a signal */
	USJ_EUSAGE = 2, /* bad command line */
	USJ_EDATA = 3,  /* bad input data: a file or record the user must fix */
};

extern const char *usj_prog; /* set by usj_init() from argv[0] */

/* usj_init: name the program for messages and install the signal handlers
 * that remove unfinished output files. */
void usj_init(const char *argv0);

/* usj_die: print "prog: message" and exit with code after removing unfinished
 * outputs. A format ending in ':' appends strerror(errno). */
void usj_die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void usj_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* usj_fail: format a one-line reason into err and return code, for the
 * functions that report failures to their caller instead of dying. */
int usj_fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* usj_usage_error: "prog: message" then "usage: ..." hint, exit 2. */
void usj_usage_error(const char *synopsis, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* usj_close_stdout: flush and close stdout, dying on a write error. */
void usj_close_stdout(void);

#endif
