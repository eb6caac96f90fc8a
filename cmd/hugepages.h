#ifndef HF_CLI_HUGEPAGES_H
#define HF_CLI_HUGEPAGES_H

#include <stddef.h>

/*
 * Turn on transparent huge pages for malloc's heap when the machine
 * allows it and the command's input is large (HUBFORM_HUGEPAGES: 0
 * never, 1 whatever the size): may execute hubform again with `argv`
 * (see hugepages.c).
 * Call first in main, after hf_alloc_init and before any output.
 */
void cli_hugepages(char **argv);

/* What was decided, for HUBFORM_TIMING: "on (...)" or "off (...)". */
const char *cli_hugepages_state(void);

/* The kernel's THP mode ("always", "madvise", "never"), or "" unknown. */
void cli_hugepages_thp_mode(char *out, size_t n);

#endif
