/* Shared by the service and crash tests: a small process (start -> three user tasks ->
 * end) and a temporary directory for the database. */
#ifndef FLOWD_SVC_FIXTURE_H
#define FLOWD_SVC_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVC_PROCESS_XML                                                                            \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                 \
    " id=\"defs\" targetNamespace=\"http://flowd.test\">\n"                                        \
    "  <bpmn:process id=\"order\" name=\"Order\" isExecutable=\"true\">\n"                         \
    "    <bpmn:startEvent id=\"start\"/>\n"                                                        \
    "    <bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"check\"/>\n"                 \
    "    <bpmn:userTask id=\"check\" name=\"Check\"/>\n"                                           \
    "    <bpmn:sequenceFlow id=\"f2\" sourceRef=\"check\" targetRef=\"offer\"/>\n"                 \
    "    <bpmn:userTask id=\"offer\" name=\"Offer\"/>\n"                                           \
    "    <bpmn:sequenceFlow id=\"f3\" sourceRef=\"offer\" targetRef=\"pay\"/>\n"                   \
    "    <bpmn:userTask id=\"pay\" name=\"Pay\"/>\n"                                               \
    "    <bpmn:sequenceFlow id=\"f4\" sourceRef=\"pay\" targetRef=\"end\"/>\n"                     \
    "    <bpmn:endEvent id=\"end\"/>\n"                                                            \
    "  </bpmn:process>\n"                                                                          \
    "</bpmn:definitions>\n"

#define SVC_TASKS_PER_INSTANCE 3

/* mkdtemp under /tmp; dir must hold 64 bytes. */
static inline int svc_tmpdir(char *dir)
{
    strcpy(dir, "/tmp/flowd-svc-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static inline void svc_rmdb(const char *dir)
{
    static const char *const names[] = {"t.db", "t.db-wal", "t.db-shm"};
    char p[128];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        remove(p);
    }
    remove(dir);
}

#endif
