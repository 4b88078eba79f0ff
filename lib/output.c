/* output.c: atomic output files. Temporary names are registered in a fixed
 * table so a signal handler can unlink them without allocating; threads
 * claim and release its slots by compare-and-swap, so there is no lock for
 * a handler to find held. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "mem.h"
#include "output.h"

struct usj_output {
	FILE *f;    /* NULL once closed */
	char *path; /* final name, NULL for stdout */
	char *tmp;  /* temporary name beside it, NULL when written directly */
	int slot;   /* tmp's index in pending, -1 if none */
	int synced_later; /* inside an uncommitted output folder: synced with it */
};

/* One slot for each output being written under a temporary name: room for a
 * writer thread per core of a large machine, and a stream or two besides. */
#define MAX_PENDING 256
static char *pending[MAX_PENDING];
static int exiting;         /* set by usj_output_remove_unfinished: no new temporary files */
static unsigned tmp_serial; /* makes temporary names unique within the process */
static char *pending_dir;   /* the uncommitted output folder, if any */

/* in_pending_dir: whether path lies in the uncommitted output folder, whose
 * files need no sync each: usj_outdir_commit syncs them all at once */
static int in_pending_dir(const char *path)
{
	const char *dir = __atomic_load_n(&pending_dir, __ATOMIC_SEQ_CST);
	size_t n = dir ? strlen(dir) : 0;
	return dir && strncmp(path, dir, n) == 0 && path[n] == '/';
}

static int claim_slot(char *tmp)
{
	for (int i = 0; i < MAX_PENDING; i++) {
		char *none = NULL;
		if (__atomic_compare_exchange_n(&pending[i], &none, tmp, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return i;
	}
	return -1;
}

/* release: close o, remove its temporary file if it failed, free it. A name
 * that usj_output_remove_unfinished took from its slot is not freed: the
 * process is ending and the sweep may still be reading it. */
static void release(usj_output *o, int failed)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	if (o->tmp) {
		if (failed)
			unlink(o->tmp);
		char *mine = o->tmp;
		if (o->slot < 0 || __atomic_compare_exchange_n(&pending[o->slot], &mine, NULL, 0,
		                                               __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			free(o->tmp);
	}
	free(o->path);
	free(o);
}

static int give_up(usj_output *o, int rc)
{
	release(o, 1);
	return rc;
}

/* create_temporary: a new file beside o->path, named in o->tmp. O_EXCL with
 * mode 0666 lets the kernel apply the umask (asking for it is a race between
 * threads); a name left by a killed process with the same pid is skipped. */
static int create_temporary(usj_output *o)
{
	const char *slash = strrchr(o->path, '/');
	int dirlen = slash ? (int)(slash - o->path + 1) : 0;
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		unsigned serial = __atomic_fetch_add(&tmp_serial, 1, __ATOMIC_RELAXED);
		free(o->tmp);
		o->tmp = xasprintf("%.*s.%s.tmp.%d.%u", dirlen, o->path, o->path + dirlen, (int)getpid(), serial);
		fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	return fd;
}

int usj_output_create(const char *path, usj_output **out, char *err, size_t errlen)
{
	usj_output *o = xcalloc(1, sizeof *o);
	o->slot = -1;
	*out = NULL;
	if (!path || strcmp(path, "-") == 0) {
		o->f = stdout;
		*out = o;
		return 0;
	}
	o->path = xstrdup(path);
	o->synced_later = in_pending_dir(path);
	/* A device or a pipe (-o /dev/null, a FIFO) cannot be replaced by a
	 * rename, and there is no partial file to protect: write to it directly. */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (!(o->f = fopen(path, "wb")))
			return give_up(o, usj_fail(err, errlen, USJ_EFAIL, "cannot open: %s", strerror(errno)));
		*out = o;
		return 0;
	}
	int fd = create_temporary(o);
	if (fd < 0)
		return give_up(o, usj_fail(err, errlen, USJ_EFAIL, "cannot create: %s", strerror(errno)));
	if (!(o->f = fdopen(fd, "wb"))) {
		close(fd);
		return give_up(o, usj_fail(err, errlen, USJ_EFAIL, "cannot open: %s", strerror(errno)));
	}
	o->slot = claim_slot(o->tmp);
	if (o->slot < 0)
		return give_up(o, usj_fail(err, errlen, USJ_EFAIL, "too many files being written at once "
		                           "(limit %d)", MAX_PENDING));
	/* checked after claiming: a sweep that missed the slot has set it first */
	if (__atomic_load_n(&exiting, __ATOMIC_SEQ_CST))
		return give_up(o, usj_fail(err, errlen, USJ_EFAIL, "the program is ending"));
	*out = o;
	return 0;
}

usj_output *usj_output_open(const char *path)
{
	usj_output *o;
	char err[256];
	if (usj_output_create(path, &o, err, sizeof err) != 0)
		usj_die(USJ_EFAIL, "%s: %s", path, err);
	return o;
}

FILE *usj_output_file(usj_output *o) { return o->f; }

const char *usj_output_name(const usj_output *o)
{
	return o->path ? o->path : "standard output";
}

/* close_and_rename: flush, sync and close o->f (stdout: flush only), then
 * rename the temporary file into place. */
static int close_and_rename(usj_output *o, char *err, size_t errlen)
{
	if (fflush(o->f) != 0 || ferror(o->f) || (o->tmp && !o->synced_later && fsync(fileno(o->f)) != 0))
		return usj_fail(err, errlen, USJ_EFAIL, "write error: %s", strerror(errno));
	if (o->f == stdout)
		return 0;
	FILE *f = o->f;
	o->f = NULL;
	if (fclose(f) != 0)
		return usj_fail(err, errlen, USJ_EFAIL, "write error: %s", strerror(errno));
	if (o->tmp && rename(o->tmp, o->path) != 0)
		return usj_fail(err, errlen, USJ_EFAIL, "cannot rename %s into place: %s", o->tmp,
		                strerror(errno));
	return 0;
}

void usj_output_commit(usj_output *o)
{
	char err[256];
	if (close_and_rename(o, err, sizeof err) != 0)
		usj_die(USJ_EFAIL, "%s: %s", usj_output_name(o), err);
	release(o, 0);
}

int usj_output_finish(usj_output *o, char *err, size_t errlen)
{
	int rc = close_and_rename(o, err, errlen);
	release(o, rc != 0);
	return rc;
}

void usj_output_discard(usj_output *o) { release(o, 1); }


char *usj_outdir_open(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		usj_die(USJ_EUSAGE, "%s exists: remove it or choose another output folder", path);
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	char *tmp = NULL;
	/* mkdir with mode 0777 lets the kernel apply the umask, as for the folder itself */
	for (int tries = 0; !tmp || mkdir(tmp, 0777) != 0; tries++) {
		if (tmp && (errno != EEXIST || tries > 100))
			usj_die(USJ_EFAIL, "%s: cannot create a folder beside it:", path);
		free(tmp);
		tmp = xasprintf("%.*s.%s.tmp.%ld.%u", dirlen, path, path + dirlen, (long)getpid(),
		                __atomic_fetch_add(&tmp_serial, 1, __ATOMIC_SEQ_CST));
	}
	__atomic_store_n(&pending_dir, tmp, __ATOMIC_SEQ_CST);
	return tmp;
}

void usj_outdir_commit(char *tmp, const char *path)
{
	int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) != 0)
		usj_die(USJ_EFAIL, "%s: cannot sync the files written:", path);
	close(fd);
	if (rename(tmp, path) != 0)
		usj_die(USJ_EFAIL, "%s: cannot rename %s into place:", path, tmp);
	__atomic_store_n(&pending_dir, NULL, __ATOMIC_SEQ_CST);
	free(tmp);
}

/* remove_tree: remove folder dirfd/name and all below it, with only
 * async-signal-safe calls (openat, getdents64, unlinkat): no allocation */
static void remove_tree(int dirfd, const char *name, int depth)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[4096];
	long n;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
		for (long at = 0; at < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + at);
			at += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (d->d_type == DT_DIR && depth < 8)
				remove_tree(fd, d->d_name, depth + 1);
			else
				unlinkat(fd, d->d_name, 0);
		}
	close(fd);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

void usj_output_remove_unfinished(void)
{
	__atomic_store_n(&exiting, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < MAX_PENDING; i++) {
		char *t = __atomic_exchange_n(&pending[i], NULL, __ATOMIC_SEQ_CST);
		if (t)
			unlink(t);
	}
	/* files are no longer created (exiting) and unfinished ones are gone, but
	 * another thread may be renaming one into the folder as it is swept:
	 * sweep until the folder is gone */
	char *dir = __atomic_exchange_n(&pending_dir, NULL, __ATOMIC_SEQ_CST);
	for (int pass = 0; dir && pass < 100 && access(dir, F_OK) == 0; pass++)
		remove_tree(AT_FDCWD, dir, 0);
}
