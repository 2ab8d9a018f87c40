/* Call activities across instances: start the called instance for an FL_FX_CALL effect,
 * and tell the caller (FL_CMD_CALL_DONE) when a called instance ends or throws an error
 * no scope of it catches. Placeholder until the call activity lands: the engine emits no
 * FL_FX_CALL yet, so nothing reaches here. */
#include "service/service_int.h"

int fl__svc_on_call(struct fl_service *svc, const struct fl_instance *inst,
                    const struct fl_effect *e, unsigned depth, struct fl_error *err)
{
    (void)svc, (void)inst, (void)e, (void)depth, (void)err;
    return 0;
}

int fl__svc_on_child_end(struct fl_service *svc, const struct fl_instance *inst,
                         const struct fl_effect *e, unsigned depth, struct fl_error *err)
{
    (void)svc, (void)inst, (void)e, (void)depth, (void)err;
    return 0;
}
