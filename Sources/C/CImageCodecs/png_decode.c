// libpng reading from memory. Transforms reproduce what PIL's PNG plugin followed by
// convert("RGBA"/"RGB") yields: palettes and low bit depths expanded (gray scaled to 0...255),
// tRNS turned into alpha, gray replicated to RGB, 16-bit samples reduced to their high byte.
// Gamma, colour profiles and text chunks are ignored, as PIL ignores them.

#include "CImageCodecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    char *message;
    size_t message_capacity;
} reader_context;

static void set_message(char *message, size_t capacity, const char *text) {
    if (message != NULL && capacity > 0) {
        snprintf(message, capacity, "%s", text);
    }
}

static void on_error(png_structp png, png_const_charp text) {
    reader_context *context = (reader_context *)png_get_error_ptr(png);
    set_message(context->message, context->message_capacity, text);
    png_longjmp(png, 1);
}

// Warnings (bad ancillary CRCs, benign errors) are tolerated silently, never printed.
static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void read_from_memory(png_structp png, png_bytep out, size_t length) {
    reader_context *context = (reader_context *)png_get_io_ptr(png);
    if (length > context->size - context->offset) {
        png_error(png, "truncated PNG data");
    }
    memcpy(out, context->data + context->offset, length);
    context->offset += length;
}

// Chunks whose content never affects the pixels: skipped unread, so that compressed text or
// profiles cost nothing and cannot fail the decode.
static const png_byte ignored_chunks[] =
    "iCCP\0" "iTXt\0" "tEXt\0" "zTXt\0" "sPLT\0" "eXIf\0" "hIST\0" "pCAL\0" "sCAL\0";

// Reads every chunk up to the first IDAT and sets the transforms; returns the layout they
// produce. Only the decode calls png_read_update_info (it allocates row buffers), so reading
// the layout allocates nothing in proportion to the declared size. Runs below a setjmp.
static void read_info_and_set_transforms(png_structp png, png_infop info, cic_png_layout *layout) {
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, ignored_chunks,
                                (int)(sizeof(ignored_chunks) / 5));
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);

    int has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    if (bit_depth == 16) {
        png_set_strip_16(png);
    }
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png);
    }
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (has_trns) {
        png_set_tRNS_to_alpha(png);
    }
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_gray_to_rgb(png);
    }
    layout->width = width;
    layout->height = height;
    layout->channels = ((color_type & PNG_COLOR_MASK_ALPHA) != 0 || has_trns) ? 4 : 3;
}

static int open_reader(const uint8_t *data, size_t size, reader_context *context,
                       png_structp *png, png_infop *info) {
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (size < 8 || memcmp(data, signature, 8) != 0) {
        set_message(context->message, context->message_capacity, "not a PNG signature");
        return -1;
    }
    *png = png_create_read_struct(PNG_LIBPNG_VER_STRING, context, on_error, on_warning);
    if (*png == NULL) {
        set_message(context->message, context->message_capacity, "out of memory");
        return -1;
    }
    *info = png_create_info_struct(*png);
    if (*info == NULL) {
        png_destroy_read_struct(png, NULL, NULL);
        set_message(context->message, context->message_capacity, "out of memory");
        return -1;
    }
    context->offset = 8;
    png_set_read_fn(*png, context, read_from_memory);
    png_set_sig_bytes(*png, 8);
    return 0;
}

int cic_png_read_layout(const uint8_t *data, size_t size, cic_png_layout *layout,
                        char *message, size_t message_capacity) {
    reader_context context = {data, size, 0, message, message_capacity};
    png_structp png = NULL;
    png_infop info = NULL;
    if (open_reader(data, size, &context, &png, &info) != 0) {
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    read_info_and_set_transforms(png, info, layout);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

int cic_png_decode(const uint8_t *data, size_t size, const cic_png_layout *layout,
                   uint8_t *pixels, size_t pixels_capacity,
                   char *message, size_t message_capacity) {
    reader_context context = {data, size, 0, message, message_capacity};
    png_structp png = NULL;
    png_infop info = NULL;
    if (open_reader(data, size, &context, &png, &info) != 0) {
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    cic_png_layout found;
    read_info_and_set_transforms(png, info, &found);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t row_bytes = (size_t)found.width * found.channels;
    if (found.width != layout->width || found.height != layout->height ||
        found.channels != layout->channels || png_get_bit_depth(png, info) != 8 ||
        png_get_channels(png, info) != found.channels || png_get_rowbytes(png, info) != row_bytes) {
        png_error(png, "PNG layout differs from the one inspected");
    }
    if (found.height != 0 && row_bytes > pixels_capacity / found.height) {
        png_error(png, "pixel buffer too small");
    }
    // Interlaced images take several passes over every row; libpng writes each pass's pixels
    // into the row it is given, so the destination rows double as its working rows.
    for (int pass = 0; pass < passes; pass++) {
        for (png_uint_32 y = 0; y < found.height; y++) {
            png_read_row(png, pixels + (size_t)y * row_bytes, NULL);
        }
    }
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}
