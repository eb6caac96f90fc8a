/*
 * A main() for one harness without libFuzzer: runs every file named on
 * the command line (directories: every file in them) through
 * LLVMFuzzerTestOneInput. Lets a harness be debugged with gdb or
 * valgrind on a saved reproducer.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "replay.h"

int main(int argc, char **argv)
{
	long n = 0;
	int i;

	for (i = 1; i < argc; i++) {
		long r = hf_fuzz_replay_path(argv[i], LLVMFuzzerTestOneInput);

		if (r < 0)
			return 1;
		n += r;
	}
	printf("%ld inputs replayed\n", n);
	return 0;
}
