/*
 * statloop LIST N: lstat(2) every path listed in LIST (one per line), N times over. The "repeated
 * stat of cached entries" workload of bench/fuse/run.sh: one process, no fork per file, so the
 * time is the kernel's (and, on a mount, the FUSE daemon's) cost per stat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: statloop LIST N\n");
    return 2;
  }
  FILE *list = fopen(argv[1], "r");
  if (!list) {
    perror(argv[1]);
    return 1;
  }
  size_t count = 0, cap = 1024;
  char **paths = malloc(cap * sizeof *paths);
  char *line = NULL;
  size_t len = 0;
  ssize_t n;
  while ((n = getline(&line, &len, list)) > 0) {
    if (line[n - 1] == '\n') {
      line[n - 1] = '\0';
    }
    if (count == cap) {
      cap *= 2;
      paths = realloc(paths, cap * sizeof *paths);
    }
    paths[count++] = strdup(line);
  }
  fclose(list);
  long iterations = atol(argv[2]);
  struct stat st;
  for (long i = 0; i < iterations; i++) {
    for (size_t p = 0; p < count; p++) {
      if (lstat(paths[p], &st) != 0) {
        perror(paths[p]);
        return 1;
      }
    }
  }
  return 0;
}
