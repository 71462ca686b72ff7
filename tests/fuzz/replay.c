/*
 * replay.c - runs fuzz inputs through a fuzz target without libFuzzer, so
 * the regression inputs under tests/fuzz/regress/ can be replayed by the
 * ordinary sanitizer build (gcc, ASan+UBSan) in `make check`.
 *
 * Usage: replay-TARGET FILE|DIR...  (a directory: every regular file in it)
 * Prints "replayed N inputs" and exits 0; a sanitizer report or an
 * oracle violation in the target aborts, which the caller sees as failure.
 * Exit 2 when an argument cannot be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;

    if (!fp) {
        perror(path);
        return -1;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                abort();
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        if (got == 0)
            break;
        len += got;
    }
    fclose(fp);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* An exact-size copy, so ASan sees a read past the input's end. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact)
        abort();
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int replay_dir_filter(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    unsigned long n = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            perror(argv[i]);
            return 2;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (replay_file(argv[i]) < 0)
                return 2;
            n++;
            continue;
        }
        struct dirent **list;
        int m = scandir(argv[i], &list, replay_dir_filter, alphasort);
        if (m < 0) {
            perror(argv[i]);
            return 2;
        }
        for (int k = 0; k < m; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], list[k]->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                if (replay_file(path) < 0)
                    return 2;
                n++;
            }
            free(list[k]);
        }
        free(list);
    }
    printf("replayed %lu inputs\n", n);
    return 0;
}
