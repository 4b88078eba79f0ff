/* output.c: atomic output files. Temporary names are registered in a fixed
 * table so a signal handler can unlink them without allocating. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "mem.h"
#include "output.h"

struct usj_output {
	FILE *f;
	char *path; /* final name, NULL for stdout */
	char *tmp;  /* temporary name beside it */
	int slot;
};

#define MAX_PENDING 64
static char *volatile pending[MAX_PENDING];

usj_output *usj_output_open(const char *path)
{
	usj_output *o = xcalloc(1, sizeof *o);
	o->slot = -1;
	if (!path || strcmp(path, "-") == 0) {
		o->f = stdout;
		return o;
	}
	o->path = xstrdup(path);
	/* A device or a pipe (-o /dev/null, a FIFO) cannot be replaced by a
	 * rename, and there is no partial file to protect: write to it directly. */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		o->f = fopen(path, "wb");
		if (!o->f)
			usj_die(USJ_EFAIL, "cannot open %s:", path);
		return o;
	}
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	o->tmp = xasprintf("%.*s.%s.tmp.XXXXXX", dirlen, path, path + dirlen);
	int fd = mkstemp(o->tmp);
	if (fd < 0)
		usj_die(USJ_EFAIL, "cannot create %s:", path);
	for (int i = 0; i < MAX_PENDING; i++)
		if (!pending[i]) {
			pending[i] = o->tmp;
			o->slot = i;
			break;
		}
	if (o->slot < 0) {
		unlink(o->tmp);
		usj_die(USJ_EFAIL, "too many open outputs (limit %d)", MAX_PENDING);
	}
	/* mkstemp creates mode 0600; give the file the mode open() would. */
	mode_t mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0)
		usj_die(USJ_EFAIL, "cannot set the mode of %s:", o->tmp);
	o->f = fdopen(fd, "wb");
	if (!o->f)
		usj_die(USJ_EFAIL, "cannot open %s:", path);
	return o;
}

FILE *usj_output_file(usj_output *o) { return o->f; }

const char *usj_output_name(const usj_output *o)
{
	return o->path ? o->path : "standard output";
}

void usj_output_commit(usj_output *o)
{
	if (!o->path) {
		if (fflush(stdout) != 0 || ferror(stdout))
			usj_die(USJ_EFAIL, "write error on standard output:");
		free(o);
		return;
	}
	if (fflush(o->f) != 0 || ferror(o->f) || (o->tmp && fsync(fileno(o->f)) != 0))
		usj_die(USJ_EFAIL, "write error on %s:", o->path);
	if (fclose(o->f) != 0)
		usj_die(USJ_EFAIL, "write error on %s:", o->path);
	if (!o->tmp) {
		free(o->path);
		free(o);
		return;
	}
	if (rename(o->tmp, o->path) != 0)
		usj_die(USJ_EFAIL, "cannot rename %s to %s:", o->tmp, o->path);
	pending[o->slot] = NULL;
	free(o->tmp);
	free(o->path);
	free(o);
}

void usj_output_remove_unfinished(void)
{
	for (int i = 0; i < MAX_PENDING; i++) {
		char *t = pending[i];
		if (t) {
			unlink(t);
			pending[i] = NULL;
		}
	}
}
