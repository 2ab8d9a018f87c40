/* flowd command-line entry point: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
        puts("flowd 0.1.0");
        return 0;
    }
    fprintf(stderr, "usage: flowd <command> [options]\n");
    return 1;
}
