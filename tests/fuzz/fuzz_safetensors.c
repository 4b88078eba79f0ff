/* fuzz_safetensors.c: libFuzzer target for the safetensors parser (make
 * fuzz). Every input must parse or be refused with a reason; whatever is
 * parsed is read to the last byte, so ASan and UBSan see a bad access. */
#include <stdint.h>
#include <stdlib.h>

#include "safetensors.h"

static volatile uint64_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	usj_tensorset ts;
	usj_tensorset_init(&ts);
	usj_strmap meta = {0};
	char err[300];
	if (usj_safetensors_parse(data, size, &ts, &meta, err, sizeof err) == 0) {
		uint64_t sum = 0;
		for (int i = 0; i < ts.n; i++) {
			const uint8_t *b = ts.items[i].t.data;
			for (size_t k = 0; k < ts.items[i].t.nbytes; k++)
				sum += b[k];
		}
		for (int i = 0; i < meta.n; i++)
			sum += (uint8_t)meta.items[i].key[0] + (uint8_t)meta.items[i].val[0];
		sink += sum;
	} else {
		sink += (uint8_t)err[0];
	}
	usj_tensorset_free(&ts);
	usj_strmap_free(&meta);
	return 0;
}
