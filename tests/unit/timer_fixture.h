/* Shared by the timer tests of the service and the crash test: a process whose one user
 * task has a deadline (PT1H), a reminder (PT15M before), an accountable role and one
 * escalation level (PT2H after the deadline, to the director), assigned to alice. */
#ifndef FLOWD_TIMER_FIXTURE_H
#define FLOWD_TIMER_FIXTURE_H

#define TIMER_T0 1795431600000LL /* 2026-11-23T11:00:00Z */
#define TIMER_MIN 60000LL
#define TIMER_HOUR 3600000LL

#define TIMER_PROCESS_XML                                                                          \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                 \
    " xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\""                                        \
    " xmlns:flowd=\"https://flowd.dev/schema/bpmn/1.0\""                                           \
    " id=\"defs\" targetNamespace=\"http://flowd.test\">\n"                                        \
    "  <bpmn:process id=\"deal\" name=\"Deal\" isExecutable=\"true\">\n"                           \
    "    <bpmn:startEvent id=\"start\"/>\n"                                                        \
    "    <bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"offer\"/>\n"                 \
    "    <bpmn:userTask id=\"offer\" name=\"Offer\" camunda:assignee=\"alice\">\n"                 \
    "      <bpmn:extensionElements>\n"                                                             \
    "        <flowd:stage duration=\"PT1H\" remindBefore=\"PT15M\">\n"                             \
    "          <flowd:raci responsible=\"sales\" accountable=\"sales_head\"/>\n"                   \
    "          <flowd:escalation after=\"PT2H\" to=\"director\"/>\n"                               \
    "        </flowd:stage>\n"                                                                     \
    "      </bpmn:extensionElements>\n"                                                            \
    "    </bpmn:userTask>\n"                                                                       \
    "    <bpmn:sequenceFlow id=\"f2\" sourceRef=\"offer\" targetRef=\"end\"/>\n"                   \
    "    <bpmn:endEvent id=\"end\"/>\n"                                                            \
    "  </bpmn:process>\n"                                                                          \
    "</bpmn:definitions>\n"

#endif
