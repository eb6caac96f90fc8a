#ifndef HF_FUZZ_H
#define HF_FUZZ_H

/*
 * One harness = one fuzz_<name>.c defining its entry with
 * HF_FUZZ_ENTRY(fuzz_<name>). Built for libFuzzer it is
 * LLVMFuzzerTestOneInput; built into the replay test
 * (tests/test_fuzz_replay.c, which includes every harness) it is a plain
 * function of that name, so one program can hold them all.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef HF_FUZZ_REPLAY
#define HF_FUZZ_ENTRY(name) static int name
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#define HF_FUZZ_ENTRY(name) int LLVMFuzzerTestOneInput
#endif

#endif
