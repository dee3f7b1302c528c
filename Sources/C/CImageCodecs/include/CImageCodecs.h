#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

// PNG decoding through libpng, kept in C because libpng reports errors with longjmp, which
// must never cross Swift frames: every libpng call is made below a setjmp in this target.

#include <stddef.h>
#include <stdint.h>

/// Pixel layout a PNG decodes to: 8-bit samples, RGB or RGBA, rows packed without padding.
typedef struct {
    uint32_t width;
    uint32_t height;
    /// 3 (RGB) or 4 (RGBA: the file has an alpha channel or a tRNS chunk).
    uint32_t channels;
} cic_png_layout;

/// Reads the PNG header (every chunk before the first IDAT) without decoding pixels.
/// Returns 0, or -1 with a NUL-terminated reason in `message`.
int cic_png_read_layout(const uint8_t *data, size_t size, cic_png_layout *layout,
                        char *message, size_t message_capacity);

/// Decodes the image into `pixels`, which holds layout.height rows of
/// layout.width * layout.channels bytes. `layout` must be what cic_png_read_layout reported.
/// Returns 0, or -1 with a NUL-terminated reason in `message`.
int cic_png_decode(const uint8_t *data, size_t size, const cic_png_layout *layout,
                   uint8_t *pixels, size_t pixels_capacity,
                   char *message, size_t message_capacity);

#endif
