// What packed_gemm.c and packed_conv.c share: the engine, each thread's stream and buffers.
#ifndef ONEDNN_SHARED_H
#define ONEDNN_SHARED_H

#include "CPackedGEMM.h"
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <string.h>

extern dnnl_engine_t engine;
extern dnnl_status_t engine_status;
extern pthread_once_t engine_once;
void make_engine(void);
extern __thread dnnl_stream_t thread_stream;

// Makes the calling thread's stream and keeps oneDNN's OpenMP team at one thread (see packed_gemm.c).
bool prepare_thread(void);
void say(char *error, size_t capacity, const char *what, dnnl_status_t status);
const char *implementation_of(const_dnnl_primitive_desc_t pd);
dnnl_data_type_t data_type(tt_precision p);
// The calling thread's bf16 staging buffer, grown to `count` values (NULL when out of memory).
uint16_t *thread_bf16_buffer(size_t count);

// Round to nearest even, as PyTorch's .to(torch.bfloat16); NaN stays NaN.
static inline uint16_t to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

#endif
