/* Random hex text for ids, tokens and keys that must not repeat. */
#ifndef EVOCLAW_COMMON_RANDOM_HEX_H
#define EVOCLAW_COMMON_RANDOM_HEX_H

#include <stddef.h>

/* 2*bytes random hex digits and a NUL into out; bytes at most 32. Aborts
 * when the kernel gives no randomness: ids would repeat. */
void random_hex(char *out, size_t bytes);

#endif
