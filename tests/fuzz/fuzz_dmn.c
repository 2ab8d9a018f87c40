/* libFuzzer target for the DMN reader and evaluator: the bytes are read as a DMN document
 * and every decision that compiles is evaluated over an empty context (fl_dmn_fuzz_one, the
 * dmn subsystem's own entry point). Any crash, leak or sanitizer report is a bug. */
#include <stddef.h>
#include <stdint.h>

#include "flowd/dmn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fl_dmn_fuzz_one(data, size);
    return 0;
}
