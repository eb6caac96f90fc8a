/*
 * Transparent huge pages for the heap.
 *
 * A large plan is millions of small allocations spread over gigabytes:
 * with 4 KiB pages it spends much of its time in page faults and TLB
 * misses (a 1M-object plan: 79 s; with 2 MiB pages 65 s, load 5.8 ->
 * 3.2 s). glibc (2.35 and later) backs its heap with huge pages when the
 * tunable glibc.malloc.hugetlb=1 is set, and reads tunables only when a
 * process starts: so, before anything else runs, hubform adds it to
 * GLIBC_TUNABLES and executes itself again, once. The second start finds
 * the tunable set and goes on.
 *
 * Not done when the kernel's THP mode is not "madvise" ("always" has them
 * already, "never" refuses them), when GLIBC_TUNABLES already names
 * hugetlb (the user's choice), when HUBFORM_HUGEPAGES=0, in glibc's
 * secure mode (setuid or file capabilities: tunables are ignored), under
 * a sanitizer or valgrind (they own malloc), when started through the
 * dynamic loader, or when /proc/self/exe cannot be executed (hubform
 * then goes on as it is); and never twice. Starting again costs a few
 * tens of milliseconds, so it is done only for a command whose files,
 * plan file or databases weigh 64 MiB or more, or with
 * HUBFORM_HUGEPAGES=1.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/stat.h>

#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#endif

#include "hf/alloc.h"
#include "hugepages.h"
#include "hf/banned.h"

#define TUNABLE "glibc.malloc.hugetlb=1"
/*
 * Set for the second start only: hubform executes itself at most once,
 * even where glibc drops the tunable on the way (secure mode strips
 * GLIBC_TUNABLES; a tunable it does not keep would otherwise start
 * hubform again and again).
 */
#define RESTARTED "HUBFORM_HUGEPAGES_RESTARTED"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
        __has_feature(memory_sanitizer)
#define HF_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HF_SANITIZED 1
#endif

/*
 * Starting again costs the dynamic linking once more (about 30 ms with
 * libcurl's dependencies), and a plan of a hundred thousand objects does
 * not win it back: a 100k no-change plan (12 MB of YAML) took 2.02 s
 * with huge pages and 1.89 s without (medians of ten runs each,
 * alternating, on a 2-core VM); the 1M plan (121 MB) 23.6 s and 22.6 s,
 * its resolve slower with them and its save 2.3 s faster. That 1M
 * difference is two runs each, within the machine's noise, against a
 * 79.5 -> 65.0 s gain measured when huge pages were added: so they stay
 * for the large plans, and the threshold sits between the two sizes
 * measured. The files, plan file and databases the command names must
 * reach this size (about 500,000 objects of YAML) unless
 * HUBFORM_HUGEPAGES=1. A plan store is not counted: it holds every plan
 * made, and a command reads one of them.
 */
#define LARGE_INPUT (64L << 20)

static const char *state = "off";

const char *cli_hugepages_state(void)
{
	return state;
}

void cli_hugepages_thp_mode(char *out, size_t n)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char line[128];
	char *a, *b;

	out[0] = '\0';
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && (a = strchr(line, '[')) &&
	    (b = strchr(a, ']')))
		snprintf(out, n, "%.*s", (int)(b - a - 1), a + 1);
	fclose(f);
}

/* glibc at least 2.35, where the hugetlb tunable exists. */
static int glibc_knows_hugetlb(void)
{
#if defined(__GLIBC__)
	int major = 0, minor = 0;

	if (sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) != 2)
		return 0;
	return major > 2 || (major == 2 && minor >= 35);
#else
	return 0;
#endif
}

/*
 * Whether /proc/self/exe is hubform: not when it cannot be read, nor when
 * hubform was started through the dynamic loader (ld.so ./hubform ...),
 * which would take the command for the program to run.
 */
static int exe_is_hubform(void)
{
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	const char *base;

	if (n <= 0)
		return 0;
	path[n] = '\0';
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return strncmp(base, "ld-", 3) != 0 && strncmp(base, "ld.so", 5) != 0;
}

/* Bytes of regular files seen by the walk, which stops at LARGE_INPUT. */
static long long walked;

static int add_file(const char *path, const struct stat *sb, int type,
                    struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (type == FTW_F && S_ISREG(sb->st_mode))
		walked += (long long)sb->st_size;
	return walked >= LARGE_INPUT;
}

/* Add what `path` holds (a file, or a directory's files) to `walked`. */
static void add_path(const char *path)
{
	struct stat sb;

	if (!path || !*path || stat(path, &sb) != 0)
		return;
	if (S_ISREG(sb.st_mode))
		walked += (long long)sb.st_size;
	else if (S_ISDIR(sb.st_mode))
		nftw(path, add_file, 16, FTW_PHYS);
}

/*
 * Whether the command works on a lot of data: the files and directories
 * its words name (object files, a plan file, --data values) and the
 * default local database; not a plan store (--state).
 */
static int large_input(char **argv)
{
	const char *eq;
	int i;

	walked = 0;
	for (i = 2; argv[i] && walked < LARGE_INPUT; i++) {
		/* a plan store: its history, not what this run holds */
		if (!strcmp(argv[i], "--state")) {
			i += argv[i + 1] != NULL;
			continue;
		}
		if (!strncmp(argv[i], "--state=", 8))
			continue;
		eq = argv[i][0] == '-' ? strchr(argv[i], '=') : NULL;
		add_path(eq ? eq + 1 : argv[i]);
	}
	add_path(".hubform/local.db");
	return walked >= LARGE_INPUT;
}

/* Why not, or NULL when hubform should turn them on. */
static const char *reason_not(char **argv)
{
	const char *opt = getenv("HUBFORM_HUGEPAGES");
	const char *t = getenv("GLIBC_TUNABLES");
	const char *pre = getenv("LD_PRELOAD");
	char mode[32];
	int restarted = getenv(RESTARTED) != NULL;

	if (restarted)
		unsetenv(RESTARTED); /* not for anything the command starts */
	if (opt && !strcmp(opt, "0"))
		return "off (HUBFORM_HUGEPAGES=0)";
	if (t && strstr(t, "glibc.malloc.hugetlb"))
		return strstr(t, TUNABLE) ? "on (glibc.malloc.hugetlb=1)"
		                          : "as GLIBC_TUNABLES sets them";
	if (restarted)
		return "off (the restart lost glibc.malloc.hugetlb=1)";
	/* setuid or file capabilities: glibc ignores GLIBC_TUNABLES */
	if (getauxval(AT_SECURE))
		return "off (secure mode: glibc ignores GLIBC_TUNABLES)";
#ifdef HF_SANITIZED
	return "off (a sanitizer owns malloc)";
#endif
	if (pre && strstr(pre, "vgpreload"))
		return "off (valgrind owns malloc)";
	if (!glibc_knows_hugetlb())
		return "off (needs glibc 2.35 or later)";
	cli_hugepages_thp_mode(mode, sizeof(mode));
	if (!strcmp(mode, "always"))
		return "on (the kernel's THP mode is always)";
	if (strcmp(mode, "madvise"))
		return "off (the kernel's THP mode is not madvise)";
	if (!exe_is_hubform())
		return "off (/proc/self/exe is not hubform)";
	if (!(opt && !strcmp(opt, "1")) && !large_input(argv))
		return "off (under 64 MiB of input: not worth starting again)";
	return NULL;
}

void cli_hugepages(char **argv)
{
	const char *t = getenv("GLIBC_TUNABLES");
	char *old, *val;
	size_t n;

	state = reason_not(argv);
	if (state)
		return;
	state = "off (cannot execute /proc/self/exe)";
	n = (t ? strlen(t) + 1 : 0) + sizeof(TUNABLE);
	old = t ? hf_strdup(t) : NULL;
	val = hf_alloc(n);
	if (!val || (t && !old)) {
		hf_free(val);
		hf_free(old);
		state = "off (out of memory)";
		return;
	}
	snprintf(val, n, "%s%s%s", t ? t : "", t ? ":" : "", TUNABLE);
	if (setenv(RESTARTED, "1", 1) == 0 &&
	    setenv("GLIBC_TUNABLES", val, 1) == 0)
		execv("/proc/self/exe", argv);
	/* still here: go on without, the environment as it was */
	unsetenv(RESTARTED);
	if (old)
		setenv("GLIBC_TUNABLES", old, 1);
	else
		unsetenv("GLIBC_TUNABLES");
	hf_free(val);
	hf_free(old);
}
