#ifndef HF_FUZZ_REPLAY_H
#define HF_FUZZ_REPLAY_H

/*
 * Feed files to a harness entry point: a file is one input, a directory
 * every regular file in it (sorted, not recursive). Returns the number
 * of inputs run, or -1 when a path cannot be read (printed on stderr).
 * Header-only so that the replay test and replay_main.c share it.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef int (*hf_fuzz_fn)(const uint8_t *data, size_t size);

static long hf_fuzz_replay_file(const char *path, hf_fuzz_fn fn)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, r;

	if (!f) {
		fprintf(stderr, "cannot read %s\n", path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		r = fread(buf + len, 1, cap - len, f);
		if (r == 0)
			break;
		len += r;
	}
	fclose(f);
	/* An exact-size copy, so that ASan sees reads past the input. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (!exact) {
			free(buf);
			return -1;
		}
		if (len)
			memcpy(exact, buf, len);
		free(buf);
		fn(exact, len);
		free(exact);
	}
	return 1;
}

static int hf_fuzz_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static long hf_fuzz_replay_path(const char *path, hf_fuzz_fn fn)
{
	struct stat st;
	struct dirent *e;
	char **names = NULL, full[4096];
	size_t n = 0, i;
	long total = 0, r;
	DIR *d;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return hf_fuzz_replay_file(path, fn);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char **nn;

		if (e->d_name[0] == '.')
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn)
			break;
		names = nn;
		names[n] = malloc(strlen(e->d_name) + 1);
		if (!names[n])
			break;
		memcpy(names[n], e->d_name, strlen(e->d_name) + 1);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), hf_fuzz_cmp);
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			r = hf_fuzz_replay_file(full, fn);
			total = r < 0 || total < 0 ? -1 : total + r;
		}
		free(names[i]);
	}
	free(names);
	return total;
}

#endif
