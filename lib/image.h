/* image.h: decoding PNG, JPEG, TIFF and PGM/PPM files into float pixels,
 * through libpng, libjpeg-turbo and libtiff. Decoders are independent:
 * several may run at once in different threads. */
#ifndef USJ_IMAGE_H
#define USJ_IMAGE_H
#include <stddef.h>
#include <stdint.h>

typedef struct usj_image {
	int width, height;
	int channels; /* 1 (grey) or 3 (RGB); alpha is composited over black */
	float *pix;   /* (height, width, channels), values in [0,1], 64-byte aligned, owned */
} usj_image;

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
void usj_decoder_close(usj_decoder *d);
void usj_image_free(usj_image *img);

#endif
