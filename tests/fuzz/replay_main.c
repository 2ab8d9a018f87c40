/* Replay driver for the libFuzzer targets in the normal build (gcc or clang, no libFuzzer):
 * runs LLVMFuzzerTestOneInput once on every file named, or on every file of every
 * directory named (sorted, so runs are repeatable). CI runs it over the committed corpora
 * under AddressSanitizer, so an input that once crashed or leaked stays fixed. Exit 0
 * when every input ran (a crash aborts), 1 on a file that cannot be read. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flowd/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    long len;
    size_t got;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: cannot read '%s'\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    /* Exactly len bytes: ASan catches a read one past the input, as libFuzzer would. */
    data = fl_malloc(len ? (size_t)len : 1);
    got = fread(data, 1, (size_t)len, f);
    fclose(f);
    if (got != (size_t)len) {
        fprintf(stderr, "replay: short read of '%s'\n", path);
        free(data);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, got);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *n_run)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (!d) {
        fprintf(stderr, "replay: cannot open directory '%s'\n", dir);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        fl_grow(&names, &cap, n + 1, sizeof(*names));
        names[n++] = fl_strdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *path = fl_malloc(len);
        snprintf(path, len, "%s/%s", dir, names[i]);
        if (run_file(path) != 0)
            rc = -1;
        else
            (*n_run)++;
        free(path);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t n_run = 0;
    int rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such file '%s'\n", argv[i]);
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc |= run_dir(argv[i], &n_run);
        } else if (run_file(argv[i]) == 0) {
            n_run++;
        } else {
            rc = -1;
        }
    }
    printf("replayed %zu inputs\n", n_run);
    if (n_run == 0)
        rc = -1; /* an empty corpus replays nothing: a test that cannot fail */
    return rc ? 1 : 0;
}
