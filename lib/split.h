/* split.h: grouped, stratified train/val/test splits: no group (patient,
 * video) crosses splits, and each split's class mix follows the whole. */
#ifndef USJ_SPLIT_H
#define USJ_SPLIT_H
#include <stdint.h>

#include "manifest.h"

/* usj_assign_splits: give every item without a split train, val or test in
 * the proportions frac (summing to 1), and divide items marked train_val
 * into train and val by frac[0]:frac[1]. Same manifest and seed, same splits. */
void usj_assign_splits(usj_manifest *m, const double frac[3], uint64_t seed);

#endif
