/* SPDX-License-Identifier: MIT */
/* replay.c: runs a fuzz target without libFuzzer over its seed corpus and
 * its regression inputs (tests/fuzz/corpus/NAME, tests/fuzz/regress/NAME,
 * NAME from the program's name test_fuzz_NAME), or over the files and
 * directories given as arguments. A failed oracle or a sanitizer report
 * aborts: the suite fails. Prints the summary line tests/run.py reads. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX (1u << 20)

static uint8_t input[REPLAY_MAX];
static unsigned files;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    size_t n = fread(input, 1, sizeof input, f);
    fclose(f);
    /* A copy of exactly n bytes: reads past the input show under ASan. */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return -1;
    memcpy(copy, input, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    files++;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in dir, in name order; 0 when dir does not exist. */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    static char *names[65536];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < sizeof names / sizeof names[0]) {
        if (e->d_name[0] == '.')
            continue;
        names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!names[n])
            break;
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && run_file(names[i]) < 0)
            rc = -1;
        free(names[i]);
    }
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            struct stat st;
            if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
                rc |= run_dir(argv[i]);
            else
                rc |= run_file(argv[i]);
        }
    } else {
        const char *base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];
        const char *name = strncmp(base, "test_fuzz_", 10) == 0 ? base + 10 : base;
        char dir[512];
        snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", name);
        rc |= run_dir(dir);
        unsigned seeds = files;
        snprintf(dir, sizeof dir, "tests/fuzz/regress/%s", name);
        rc |= run_dir(dir);
        printf("fuzz %s: %u seed inputs, %u regression inputs replayed\n", name, seeds,
               files - seeds);
        if (seeds == 0) {
            printf("no seed corpus in tests/fuzz/corpus/%s (run from the repository root)\n",
                   name);
            rc = -1;
        }
    }
    printf("%u passed, %d failed\n", files, rc ? 1 : 0);
    return rc ? 1 : 0;
}
