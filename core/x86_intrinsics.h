// <immintrin.h> for files whose functions carry AVX-512 target attributes. GCC 12 reports its
// own _mm512_undefined_* helpers as uninitialised there (a known false positive), so those two
// warnings are off in the including file from here on.
#pragma once
#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#endif
