/* cli.h: option values every tool parses the same way. */
#ifndef USJ_CLI_H
#define USJ_CLI_H
#include <stdint.h>

/* Each parses text or dies with a usage error naming the option. */
int64_t usj_cli_int(const char *synopsis, const char *opt, const char *text, int64_t min, int64_t max);
double usj_cli_double(const char *synopsis, const char *opt, const char *text, double min, double max);
/* usj_cli_split: "A,B,C" non-negative, not all 0, normalised to sum 1 into frac. */
void usj_cli_split(const char *synopsis, const char *opt, const char *text, double frac[3]);
/* usj_cli_shard: "K/N" with 0 <= K < N. */
void usj_cli_shard(const char *synopsis, const char *text, int *k, int *n);
/* usj_cli_splits: text itself, if its items are train, val and test,
 * comma-separated (the values of a record's split). */
const char *usj_cli_splits(const char *synopsis, const char *opt, const char *text);
/* usj_in_list: whether name is one of the items of a comma-separated list */
int usj_in_list(const char *list, const char *name);
/* usj_cli_threads: -j value; 0 means every core. */
int usj_cli_threads(const char *synopsis, const char *text);
int usj_cores(void);

#endif
