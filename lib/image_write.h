/* image_write.h: 8-bit grey or RGB pixels to PNG files (libpng) and TIFF
 * files (libtiff, Deflate), written atomically through output.h: a failure
 * leaves no partial file, and an older file of the name as it was. Writers
 * are independent: several may run at once in different threads, each on
 * its own file. */
#ifndef USJ_IMAGE_WRITE_H
#define USJ_IMAGE_WRITE_H
#include <stddef.h>
#include <stdint.h>

/* usj_write_png: pix (height, width, channels), channels 1 (grey) or 3
 * (RGB), to path ("-": stdout), 8 bits a sample. Returns 0, or an exit code
 * (USJ_EFAIL: an I/O error; USJ_EDATA: no pixels, or channels not 1 or 3)
 * with a one-line reason in err that does not repeat the path. */
int usj_write_png(const char *path, const uint8_t *pix, int width, int height, int channels,
                  char *err, size_t errlen);
/* usj_write_tiff: the same as a TIFF of one page: min-is-black or RGB,
 * contiguous samples, Deflate-compressed strips of about 64 KiB. libtiff
 * seeks back as it writes: path must be (or become) a regular file, not a
 * pipe or a device such as /dev/null (USJ_EFAIL). */
int usj_write_tiff(const char *path, const uint8_t *pix, int width, int height, int channels,
                   char *err, size_t errlen);

#endif
