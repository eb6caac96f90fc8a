/*
 * The infrahub-demo-sp datasets' load order (corpus_sp.h).
 */
#include "corpus_sp.h"

const char *const hf_sp_financial[] = {
	"objects/00_manufacturers.yml",
	"objects/datasets/financial/02_organizations.yml",
	"objects/10_locations.yml",
	"objects/datasets/financial/12_locations.yml",
	"objects/datasets/financial/20_asns.yml",
	"objects/30_platforms.yml",
	"objects/40_device_types.yml",
	"objects/50_pools.yml",
	"objects/datasets/financial/52_vlan_pools.yml",
	"objects/55_groups.yml",
	"objects/datasets/financial/60_backbone.yml",
	"objects/datasets/financial/65_ce.yml",
	"objects/datasets/financial/70_topology.yml",
	"objects/datasets/financial/80_l3vpn.yml",
	"objects/datasets/financial/90_sdwan.yml",
};

const char *const hf_sp_isp[] = {
	"objects/00_manufacturers.yml",
	"objects/datasets/isp/02_organizations.yml",
	"objects/10_locations.yml",
	"objects/datasets/isp/20_asns.yml",
	"objects/30_platforms.yml",
	"objects/40_device_types.yml",
	"objects/50_pools.yml",
	"objects/55_groups.yml",
	"objects/datasets/isp/60_backbone.yml",
	"objects/datasets/isp/70_topology.yml",
	"objects/datasets/isp/80_l3vpn.yml",
	"objects/datasets/isp/90_sdwan.yml",
};

_Static_assert(sizeof(hf_sp_financial) / sizeof(*hf_sp_financial) ==
                       HF_SP_FINANCIAL_N,
               "HF_SP_FINANCIAL_N");
_Static_assert(sizeof(hf_sp_isp) / sizeof(*hf_sp_isp) == HF_SP_ISP_N,
               "HF_SP_ISP_N");
