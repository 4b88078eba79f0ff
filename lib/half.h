/* half.h: IEEE 754 binary16 <-> binary32, round to nearest even; bfloat16
 * -> binary32. */
#ifndef USJ_HALF_H
#define USJ_HALF_H
#include <stdint.h>

float usj_half_to_float(uint16_t h);
uint16_t usj_float_to_half(float f);
/* usj_bf16_to_float: exact (bfloat16 is the top half of a binary32). */
float usj_bf16_to_float(uint16_t b);

#endif
