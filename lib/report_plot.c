/* report_plot.c: the report's plots as gnuplot scripts, kept beside the
 * images they draw, run by the gnuplot program. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "mem.h"
#include "output.h"
#include "report.h"

/* gp_quote: s as a single-quoted gnuplot string */
static void gp_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		*s == '\'' ? fputs("''", f) : fputc(*s, f);
	fputc('\'', f);
}

/* file_stem: NAME-TASK with every byte but letters, digits, '.', '-' and '_' as '_' */
static char *file_stem(const char *name, const char *task)
{
	char *s = xasprintf("%s-%s", name, task);
	for (char *p = s + strlen(name) + 1; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", *p))
			*p = '_';
	return s;
}

static void run_gnuplot(const char *plots, const char *script)
{
	pid_t pid = fork();
	if (pid < 0)
		usj_die(USJ_EFAIL, "cannot start gnuplot:");
	if (pid == 0) {
		if (chdir(plots) == 0)
			execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			usj_die(USJ_EFAIL, "waiting for gnuplot:");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		usj_die(USJ_EFAIL, "cannot run gnuplot: install it (Debian: apt-get install gnuplot-nox)");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		usj_die(USJ_EFAIL, "gnuplot failed on %s/%s", plots, script);
}

/* write_plot: the script stem.gp with the data blocks, then the drawing
 * commands once for PNG and once for SVG; run it */
static void write_plot(const char *plots, const char *stem, const char *data, const char *draw, int panels)
{
	char *name = xasprintf("%s/%s.gp", plots, stem), *script = xasprintf("%s.gp", stem);
	usj_output *o = usj_output_open(name);
	FILE *f = usj_output_file(o);
	fprintf(f, "# %s.gp: made by us-report; gnuplot %s.gp redraws %s.png and %s.svg\n%s", stem, stem, stem, stem, data);
	int w = panels > 1 ? 360 * panels : 640;
	fprintf(f, "set terminal pngcairo noenhanced size %d,420 font ',10'\nset output '%s.png'\n%s", w, stem, draw);
	fprintf(f, "set terminal svg noenhanced size %d,420 font 'sans,10'\nset output '%s.svg'\n%s", w, stem, draw);
	fputs("set output\n", f);
	usj_output_commit(o);
	run_gnuplot(plots, script);
	free(name);
	free(script);
}

/* block: a data block $NAME of x, mean, std for the cells (n) that exist; 0 if none */
static int block(FILE *f, const char *name, const double *x, const usj_cell *c, int n)
{
	int any = 0;
	for (int i = 0; i < n; i++)
		any |= c[i].n > 0;
	if (!any)
		return 0;
	fprintf(f, "$%s << EOD\n", name);
	for (int i = 0; i < n; i++)
		if (c[i].n)
			fprintf(f, "%g %.6f %.6f\n", x[i], c[i].mean, c[i].n > 1 ? c[i].std : 0.0);
	fputs("EOD\n", f);
	return 1;
}

/* plot_line: one model's line with error bars, in its own colour throughout */
static void plot_line(FILE *f, int *first, const char *block, int m, const char *model)
{
	fprintf(f, "%s$%s using 1:2:3 with yerrorlines lt %d pt 7 title ", *first ? "plot " : ", ", block, m + 1);
	gp_quote(f, model);
	*first = 0;
}

static int fewshot_plot(const char *plots, FILE *md, const usj_results *rs, int k, int clean)
{
	int M = rs->models.n, F = rs->nfractions, lines = 0, first = 1;
	char *data, *draw;
	size_t dlen, wlen;
	FILE *d = open_memstream(&data, &dlen), *w = open_memstream(&draw, &wlen);
	usj_cell *c = xmalloc((size_t)F * sizeof *c);
	fputs("set logscale x\nset xlabel 'training data (%)'\nset ylabel 'macro-F1 (%)'\nset key bottom right\n"
	      "set grid\nset offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\nset title ", w);
	gp_quote(w, rs->tasks.names[k]);
	fprintf(w, "\nset xrange [%g:%g]\n", rs->fractions[0] / 1.5, rs->fractions[F - 1] * 1.5);
	for (int m = 0; m < M; m++) {
		for (int f = 0; f < F; f++)
			c[f] = usj_results_f1(rs, m, k, rs->fractions[f], clean);
		char name[32];
		snprintf(name, sizeof name, "m%d", m);
		if (block(d, name, rs->fractions, c, F)) {
			plot_line(w, &first, name, m, rs->models.names[m]);
			lines++;
		}
	}
	fputc('\n', w);
	fclose(d);
	fclose(w);
	char *stem = file_stem("fewshot", rs->tasks.names[k]);
	if (lines) {
		write_plot(plots, stem, data, draw, 1);
		fprintf(md, "![few-shot, %s](plots/%s.svg)\n", rs->tasks.names[k], stem);
	}
	free(stem), free(c), free(data), free(draw);
	return lines > 0;
}

static int robustness_plot(const char *plots, FILE *md, const usj_results *rs, int k)
{
	int M = rs->models.n, E = rs->evals.n, panels = 0;
	char *data, *draw, *body;
	size_t dlen, blen;
	FILE *d = open_memstream(&data, &dlen), *w = open_memstream(&body, &blen);
	usj_cell *c = xmalloc((size_t)(E ? E : 1) * sizeof *c);
	double *sev = xmalloc((size_t)(E ? E : 1) * sizeof *sev);
	for (int e0 = 0; e0 < E;) { /* a kind's sets sort together, by severity */
		int len, len2, n = 0;
		if (!usj_eval_severity(rs->evals.names[e0], &len)) {
			e0++;
			continue;
		}
		const char *kind = rs->evals.names[e0];
		while (e0 + n < E && usj_eval_severity(rs->evals.names[e0 + n], &len2) && len2 == len &&
		       strncmp(rs->evals.names[e0 + n], kind, (size_t)len) == 0)
			n++;
		int first = 1;
		for (int m = 0; m < M; m++) {
			for (int i = 0; i < n; i++) {
				sev[i] = usj_eval_severity(rs->evals.names[e0 + i], &len2);
				c[i] = usj_results_drop(rs, m, k, e0 + i);
			}
			char name[48];
			snprintf(name, sizeof name, "k%dm%d", e0, m);
			if (block(d, name, sev, c, n)) {
				if (first) {
					char *title = xasprintf("%.*s", len, kind);
					fputs("set title ", w);
					gp_quote(w, title);
					fprintf(w, "\nset xrange [0.5:%g]\n", sev[n - 1] + 0.5);
					free(title);
				}
				plot_line(w, &first, name, m, rs->models.names[m]);
			}
		}
		if (!first) {
			fputc('\n', w);
			panels++;
		}
		e0 += n;
	}
	fclose(d);
	fclose(w);
	char *stem = file_stem("robustness", rs->tasks.names[k]);
	if (panels) {
		char *title = xasprintf("%s: drop in macro-F1 (points)", rs->tasks.names[k]);
		size_t len;
		FILE *t = open_memstream(&draw, &len);
		fprintf(t, "set multiplot layout 1,%d title ", panels);
		gp_quote(t, title);
		fprintf(t, "\nset xlabel 'severity'\nset ylabel 'drop (points)'\nset xtics 1\nset grid\n"
		        "set key top left\nset offsets graph 0.1, graph 0.1, graph 0.05, graph 0.05\n%sunset multiplot\n", body);
		fclose(t);
		free(title);
		write_plot(plots, stem, data, draw, panels);
		fprintf(md, "![robustness, %s](plots/%s.svg)\n", rs->tasks.names[k], stem);
		free(draw);
	}
	free(stem), free(c), free(sev), free(data), free(body);
	return panels > 0;
}

void usj_report_plots(const char *dir, FILE *md, const usj_results *rs)
{
	char *plots = xasprintf("%s/plots", dir);
	if (mkdir(plots, 0777) != 0)
		usj_die(USJ_EFAIL, "cannot create %s:", plots);
	int clean = usj_tally_find(&rs->evals, USJ_CLEAN_EVAL), any = 0;
	fputs("\n## Plots\n\nMacro-F1 against the fraction of the training split (log scale), and the drop under each "
	      "corruption against its severity; one line a model, error bars one standard deviation over seeds. "
	      "PNG files sit beside the SVG files, and each plot's gnuplot script beside both.\n\n", md);
	for (int k = 0; k < rs->tasks.n; k++) {
		if (clean >= 0)
			any |= fewshot_plot(plots, md, rs, k, clean);
		any |= robustness_plot(plots, md, rs, k);
	}
	if (!any)
		fputs("No plots: no results to draw.\n", md);
	free(plots);
}
