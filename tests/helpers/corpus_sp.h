#ifndef HF_CORPUS_SP_H
#define HF_CORPUS_SP_H

/*
 * The two datasets of the infrahub-demo-sp corpus (../shared/corpus), as
 * its README loads them: object files in load order, relative to the
 * corpus directory. The tests that use them skip when it is absent.
 */
#include <stddef.h>

#define HF_SP_FINANCIAL_N 15
#define HF_SP_ISP_N       12

extern const char *const hf_sp_financial[];
extern const char *const hf_sp_isp[];

#endif
