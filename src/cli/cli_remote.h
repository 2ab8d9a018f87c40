/* JSON of the HTTP API turned back into the row structs the CLI prints (cli_remote_json.c),
 * for the remote back end of the record source. The documents are parsed by flowd's own
 * JSON codec, so variables and event details keep exact decimals on the way through. */
#ifndef FLOWD_CLI_REMOTE_H
#define FLOWD_CLI_REMOTE_H

#include "cli/cli_source.h"
#include "flowd/value.h"

/* Each fills *out (zeroed first) from an API object; strings are copied (caller
 * releases the row as usual). FL_EINVAL naming the member when a required one is missing
 * or of the wrong type. */
int cli_remote_task(const struct fl_value *o, struct fl_task_row *out, struct fl_error *err);
int cli_remote_instance(const struct fl_value *o, struct fl_instance_row *out,
                        struct fl_error *err);
int cli_remote_event(const struct fl_value *o, struct fl_event_row *out, struct fl_error *err);
int cli_remote_definition(const struct fl_value *o, struct fl_definition_row *out,
                          struct fl_error *err);
int cli_remote_user(const struct fl_value *o, struct fl_user_row *out, struct fl_error *err);
int cli_remote_role(const struct fl_value *o, struct fl_role_row *out, struct fl_error *err);
int cli_remote_department(const struct fl_value *o, struct fl_department_row *out,
                          struct fl_error *err);
int cli_remote_token(const struct fl_value *o, struct fl_token_row *out, struct fl_error *err);
int cli_remote_control(const struct fl_value *o, struct fl_control_row *out,
                       struct fl_error *err);

/* Member key of o as an unsigned id (0 when absent or null); FL_EINVAL when not one. */
int cli_remote_id(const struct fl_value *o, const char *key, uint64_t *out, struct fl_error *err);

#endif
