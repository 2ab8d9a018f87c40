/* Messages and signals across instances: broadcast FL_FX_SIGNAL, hand a buffered message
 * to a new subscription (FL_FX_SUB_OPEN), deliver outbox messages (FL_FX_OUTBOX).
 * Placeholder until message events land: the engine emits none of these effects yet. */
#include "service/service_int.h"

int fl__svc_on_message_fx(struct fl_service *svc, const struct fl_instance *inst,
                          const struct fl_effect *e, unsigned depth, struct fl_error *err)
{
    (void)svc, (void)inst, (void)e, (void)depth, (void)err;
    return 0;
}
