/* image.h: decoding PNG, JPEG, TIFF and PGM/PPM files, through libpng,
 * libjpeg-turbo and libtiff, into the decoder's native samples (usj_native)
 * or float pixels (usj_image). Decoders are independent: several may run at
 * once in different threads. */
#ifndef USJ_IMAGE_H
#define USJ_IMAGE_H
#include <stddef.h>
#include <stdint.h>

typedef struct usj_image {
	int width, height;
	int channels; /* 1 (grey) or 3 (RGB); alpha is composited over black */
	float *pix;   /* (height, width, channels), values in [0,1], 64-byte aligned, owned */
} usj_image;

/* usj_samples: rows of interleaved unsigned samples as a decoder produced them. */
typedef struct usj_samples {
	const uint8_t *data; /* the first row */
	size_t stride;       /* bytes from one row to the next */
	int per_pixel;       /* samples a pixel: the colour ones, the alpha one if any, others ignored */
	int colour;          /* 1: RGB in samples 0-2; 0: grey in sample 0 */
	int alpha;           /* 1: the sample after the colour ones is unassociated alpha (or a
	                      * CMYK frame's K: R = (1-C)(1-K) is compositing over black) */
	int complement;      /* 1: samples count down (v reads as maxval - v: CMYK inks) */
	int bytes;           /* 1 or 2 a sample */
	int big_endian;      /* 2-byte samples are big-endian (else native) */
	unsigned maxval;     /* the value of full intensity: 255, 65535 or a PNM's maxval */
} usj_samples;

/* usj_native: a frame in its decoder's form, before any conversion. */
typedef struct usj_native {
	int width, height;
	usj_samples s; /* (height, width, s.per_pixel) samples */
	void *own[2];  /* the buffers s points into, or NULL; s may also point into the decoder */
} usj_native;

typedef struct usj_decoder usj_decoder;

/* usj_decoder_open: open path, detecting the format from its first bytes,
 * not its name. Every frame's width*height is checked against max_pixels
 * before any pixel is decoded (decompression bombs). Returns 0, or an exit
 * code (USJ_EDATA: unreadable, corrupt, unsupported or too large; USJ_EFAIL:
 * an I/O error) with a one-line reason in err that does not repeat the path. */
int usj_decoder_open(const char *path, uint64_t max_pixels, usj_decoder **out,
                     char *err, size_t errlen);
/* usj_decoder_frames: 1, or the number of pages of a multi-page TIFF (a cine loop). */
int usj_decoder_frames(const usj_decoder *d);
const char *usj_decoder_format(const usj_decoder *d); /* "png", "jpeg", "tiff", "pnm" */
/* usj_decoder_read: decode frame (0-based) into img, allocating img->pix.
 * Returns 0 or an exit code with the reason in err, as usj_decoder_open. */
int usj_decoder_read(usj_decoder *d, int frame, usj_image *img, char *err, size_t errlen);
/* usj_decoder_read_native: decode frame into out, valid until both
 * usj_native_free and usj_decoder_close; returns as usj_decoder_read. */
int usj_decoder_read_native(usj_decoder *d, int frame, usj_native *out, char *err, size_t errlen);
void usj_decoder_close(usj_decoder *d);
/* usj_native_to_image: n's samples as floats in [0,1], alpha composited
 * over black, into img (allocated). */
void usj_native_to_image(const usj_native *n, usj_image *img);
void usj_native_free(usj_native *n);
void usj_image_free(usj_image *img);

#endif
