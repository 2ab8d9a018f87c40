/* The route table of the HTTP server against docs/openapi.yaml: every route is described
 * and every described path and method is a route (a line scanner reads the `paths:` keys
 * and their methods). Also the route matcher: parameters, ids, 404 against 405. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_int.h"
#include "flowd/server.h"

struct spec_op {
    char method[8];
    char path[200];
    bool matched;
};

/* Read "  /path:" and "    get:" lines of the paths section. */
static size_t read_spec(struct spec_op *ops, size_t max)
{
    char file[1024], line[512], path[200] = "";
    FILE *f;
    bool in_paths = false;
    size_t n = 0;
    snprintf(file, sizeof(file), "%s/docs/openapi.yaml", FLOWD_SOURCE_DIR);
    f = fopen(file, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        if (line[0] != ' ' && line[0] != '#' && line[0]) {
            in_paths = !strcmp(line, "paths:");
            continue;
        }
        if (!in_paths)
            continue;
        if (!strncmp(line, "  /", 3) && line[len - 1] == ':') {
            snprintf(path, sizeof(path), "%.*s", (int)(len - 3), line + 2);
        } else if (!strncmp(line, "    ", 4) && line[4] != ' ' && line[len - 1] == ':') {
            static const char *const methods[] = {"get", "post", "put", "patch", "delete"};
            for (size_t i = 0; i < 5; i++) {
                if (strlen(methods[i]) == len - 5 && !strncmp(line + 4, methods[i], len - 5)) {
                    assert_true(n < max);
                    for (size_t k = 0; methods[i][k]; k++)
                        ops[n].method[k] = (char)(methods[i][k] - 'a' + 'A');
                    snprintf(ops[n].path, sizeof(ops[n].path), "%s", path);
                    n++;
                }
            }
        }
    }
    fclose(f);
    return n;
}

static void test_spec_matches_routes(void **state)
{
    struct spec_op ops[128];
    const struct fl_route_info *routes;
    size_t n_routes, n_ops;
    int missing = 0;
    (void)state;
    memset(ops, 0, sizeof(ops));
    n_ops = read_spec(ops, 128);
    routes = fl_server_routes(&n_routes);
    assert_true(n_routes > 20);
    for (size_t i = 0; i < n_routes; i++) {
        bool found = false;
        for (size_t j = 0; j < n_ops; j++) {
            if (!strcmp(ops[j].method, routes[i].method) &&
                !strcmp(ops[j].path, routes[i].pattern)) {
                found = true;
                ops[j].matched = true;
            }
        }
        if (!found) {
            fprintf(stderr, "route %s %s is not in docs/openapi.yaml\n", routes[i].method,
                    routes[i].pattern);
            missing++;
        }
    }
    for (size_t j = 0; j < n_ops; j++) {
        if (!ops[j].matched) {
            fprintf(stderr, "docs/openapi.yaml: %s %s is not a route\n", ops[j].method,
                    ops[j].path);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    assert_int_equal(n_ops, n_routes);
}

static void test_route_match(void **state)
{
    struct api_req r;
    int i;
    (void)state;
    memset(&r, 0, sizeof(r));
    i = api_route_match(&r, "POST", "/api/v1/tasks/42/complete");
    assert_true(i >= 0);
    assert_string_equal(api_routes[i].pattern, "/api/v1/tasks/{id}/complete");
    assert_int_equal(r.id, 42);
    i = api_route_match(&r, "GET", "/api/v1/processes/sales/xml");
    assert_true(i >= 0);
    assert_string_equal(r.param[0], "sales");
    assert_int_equal(api_route_match(&r, "GET", "/api/v1/tasks/abc"), -1);
    assert_int_equal(api_route_match(&r, "GET", "/api/v1/tasks/0"), -1);
    assert_int_equal(api_route_match(&r, "GET", "/api/v1/tasks/1/"), -1);
    assert_int_equal(api_route_match(&r, "GET", "/api/v1/tasks//complete"), -1);
    assert_int_equal(api_route_match(&r, "DELETE", "/api/v1/tasks"), -2);
    assert_int_equal(api_route_match(&r, "GET", "/api/v2/tasks"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_matches_routes),
        cmocka_unit_test(test_route_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
