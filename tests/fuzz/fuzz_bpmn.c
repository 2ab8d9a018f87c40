/* libFuzzer target for the BPMN reader: any bytes must give a document or a precise
 * error, never a crash, a hang or a leak. Seed it with ../shared/corpora/bpmn and
 * examples/, and use tests/fuzz/bpmn.dict. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "flowd/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    if (fl_bpmn_read((const char *)data, size, &doc, &err) == 0) {
        if (!doc || doc->n_processes == 0)
            abort(); /* success means at least one model */
        fl_bpmn_doc_free(doc);
    } else if (doc || err.msg[0] == '\0') {
        abort(); /* failure means no document and a message */
    }
    return 0;
}
