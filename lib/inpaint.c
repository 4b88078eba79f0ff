/* inpaint.c: onion-peel diffusion. The masked area is filled layer by
 * layer from its edge inwards: every masked pixel that touches a known
 * pixel takes the mean of its known 8-neighbours, then the whole layer
 * becomes known at once (so a layer's order does not matter and the result
 * is deterministic). Each masked pixel is visited a bounded number of times:
 * O(masked pixels). A smooth fill is all the small, thin annotations it is
 * meant for (calipers, crosses, coloured text) need; it does not continue
 * edges or texture into the hole. */
#include <stdlib.h>

#include "inpaint.h"
#include "mem.h"

enum { KNOWN, UNKNOWN, QUEUED };

/* known_mean: how many of the 8 neighbours of pixel i are known, and
 * their mean in *mean if any are */
static int known_mean(const float *grey, const uint8_t *mask, int w, int h, uint32_t i,
                      float *mean)
{
	int x = (int)(i % (uint32_t)w), y = (int)(i / (uint32_t)w), count = 0;
	float sum = 0;
	for (int ny = y - 1; ny <= y + 1; ny++) {
		if (ny < 0 || ny >= h)
			continue;
		for (int nx = x - 1; nx <= x + 1; nx++) {
			size_t j = (size_t)ny * w + nx;
			if (nx < 0 || nx >= w || mask[j] != KNOWN)
				continue;
			sum += grey[j];
			count++;
		}
	}
	if (count)
		*mean = sum / (float)count;
	return count;
}

size_t usj_mark_neighbours(uint8_t *mask, int w, int h, uint32_t i, uint8_t from, uint8_t to, uint32_t *list,
                           size_t n)
{
	int x = (int)(i % (uint32_t)w), y = (int)(i / (uint32_t)w);
	for (int ny = y - 1; ny <= y + 1; ny++) {
		if (ny < 0 || ny >= h)
			continue;
		for (int nx = x - 1; nx <= x + 1; nx++) {
			size_t j = (size_t)ny * w + nx;
			if (nx < 0 || nx >= w || mask[j] != from)
				continue;
			mask[j] = to;
			list[n++] = (uint32_t)j;
		}
	}
	return n;
}

void usj_inpaint(float *grey, uint8_t *mask, int w, int h, const uint32_t *masked, size_t count)
{
	uint32_t *layer = xmalloc(count * sizeof *layer), *next = xmalloc(count * sizeof *next);
	float *value = xmalloc(count * sizeof *value);
	/* the first layer: masked pixels with a known neighbour */
	size_t layer_count = 0;
	float mean;
	for (size_t k = 0; k < count; k++)
		if (known_mean(grey, mask, w, h, masked[k], &mean))
			layer[layer_count++] = masked[k];
	for (size_t k = 0; k < layer_count; k++)
		mask[layer[k]] = QUEUED;
	while (layer_count) {
		for (size_t k = 0; k < layer_count; k++)
			known_mean(grey, mask, w, h, layer[k], &value[k]);
		for (size_t k = 0; k < layer_count; k++) {
			grey[layer[k]] = value[k];
			mask[layer[k]] = KNOWN;
		}
		size_t next_count = 0;
		for (size_t k = 0; k < layer_count; k++)
			next_count = usj_mark_neighbours(mask, w, h, layer[k], UNKNOWN, QUEUED, next, next_count);
		uint32_t *t = layer;
		layer = next;
		next = t;
		layer_count = next_count;
	}
	free(layer);
	free(next);
	free(value);
}
