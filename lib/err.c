/* err.c: messages and exits; every fatal path removes unfinished outputs. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include "err.h"
#include "output.h"

const char *usj_prog = "usjepa";

static void on_signal(int sig)
{
	usj_output_remove_unfinished();
	signal(sig, SIG_DFL);
	raise(sig);
}

void usj_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	usj_prog = slash ? slash + 1 : argv0;
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction sa = {0};
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

static void vmessage(const char *fmt, va_list ap)
{
	int saved = errno;
	fprintf(stderr, "%s: ", usj_prog);
	vfprintf(stderr, fmt, ap);
	size_t n = strlen(fmt);
	if (n && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
}

void usj_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	usj_output_remove_unfinished();
	exit(code);
}

void usj_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

int usj_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

void usj_usage_error(const char *synopsis, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	fprintf(stderr, "usage: %s\nTry '%s --help' for more.\n", synopsis, usj_prog);
	usj_output_remove_unfinished();
	exit(USJ_EUSAGE);
}

void usj_close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		usj_die(USJ_EFAIL, "write error on standard output:");
	if (fclose(stdout) != 0 && errno != EBADF)
		usj_die(USJ_EFAIL, "write error on standard output:");
}
