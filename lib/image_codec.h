/* image_codec.h: what image.c shares with the per-format decoders
 * (image_png.c, image_jpeg.c, image_tiff.c, image_pnm.c), and those with the
 * writers (image_write.c). Private to lib/. */
#ifndef USJ_IMAGE_CODEC_H
#define USJ_IMAGE_CODEC_H
#include <stddef.h>
#include <stdint.h>

#include "image.h"

struct usj_decoder {
	const struct usj_codec *codec;
	uint64_t max_pixels;
	int frames;
	uint8_t *data; /* the whole file, for the codecs that decode from memory */
	size_t size;
	void *state;   /* the codec's own, such as an open TIFF */
};

struct usj_codec {
	const char *name;
	/* open: take over fd (closing it), check the header and every frame's size
	 * and set d->frames. 0, or an exit code with the reason in err; the caller
	 * then closes d. */
	int (*open)(usj_decoder *d, int fd, char *err, size_t errlen);
	/* read: decode frame (in range) into out. On failure the caller frees out. */
	int (*read)(usj_decoder *d, int frame, usj_native *out, char *err, size_t errlen);
	void (*close)(usj_decoder *d); /* release d->state; NULL if there is none */
};

extern const struct usj_codec usj_png_codec, usj_jpeg_codec, usj_tiff_codec, usj_pnm_codec;

/* usj_tiff_fd_open: libtiff's TIFFFdOpen(fd, mode) with messages kept to the
 * handle, so that threads keep their own: its first error goes to msg
 * (USJ_TIFF_MSG bytes that outlive the handle; empty it to see the next
 * error), warnings nowhere. No single allocation may exceed max_alloc (0:
 * no limit). NULL on failure, fd still open; TIFFClose closes fd. */
#define USJ_TIFF_MSG 256
struct tiff; /* TIFF, from tiffio.h */
struct tiff *usj_tiff_fd_open(int fd, const char *mode, uint64_t max_alloc, char *msg);

/* usj_decoder_slurp: read all of fd into d->data and close it. */
int usj_decoder_slurp(usj_decoder *d, int fd, char *err, size_t errlen);

/* usj_check_size: 0 if a frame of width x height may be decoded under
 * max_pixels, else USJ_EDATA with the reason. */
int usj_check_size(uint64_t width, uint64_t height, uint64_t max_pixels, char *err, size_t errlen);

#endif
