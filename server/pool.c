/*
 * Resource pools, as Infrahub's resource manager hands out resources
 * (backend/infrahub/core/node/resource_manager/ and
 * graphql/mutations/resource_manager/ip_pools.py, Infrahub 1.x up to
 * 1.11; pool kinds and input shapes as in docs "Resource Manager").
 *
 * - CoreIPAddressPool: the lowest free host address in the pool's
 *   resources (CoreWeightedPoolResource.allocation_weight first, highest
 *   wins), skipping the network address, and the broadcast address of
 *   IPv4, unless the resource prefix has is_pool (pools/address.py). The
 *   mask is the prefix length asked for, else default_prefix_length, else
 *   the resource's. A new address node of address_type (else
 *   default_address_type) is created in the pool's namespace.
 * - CoreIPPrefixPool: the lowest free aligned subnet of the length asked
 *   for (else default_prefix_length) that overlaps no prefix of the
 *   namespace inside the resource (IPAMResourceAllocator.get_next_prefix,
 *   1.9+, gap search), created as prefix_type (else default_prefix_type)
 *   with member_type (else default_member_type).
 * - CoreNumberPool: the lowest number of [start_range, end_range] no
 *   reservation of the pool holds (NumberPoolGetFree: reservations only).
 *
 * An identifier makes an allocation idempotent: the resource reserved
 * for it is returned again as long as it exists on the branch
 * (IS_RESERVED with the identifier; a number pool's reservation is the
 * number itself). Allocating without one always gives a new resource.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "pool.h"

#include "hf/banned.h"

#define M_ADDR   "InfrahubIPAddressPoolGetResource"
#define M_PREFIX "InfrahubIPPrefixPoolGetResource"
#define Q_ADDR   "InfrahubIPAddressGetNextAvailable"
#define Q_PREFIX "InfrahubIPPrefixGetNextAvailable"

/* ---- node helpers -------------------------------------------------------- */

static const json_t *nval(struct xreq *r, const struct xnode *n,
                          const char *attr)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, n->kind);
	const struct hfs_attr *a = k ? hfs_kind_attr(k, attr) : NULL;
	const json_t *v = a ? xn_value(n, a) : NULL;

	return v && !json_is_null(v) ? v : NULL;
}

static const char *nstr(struct xreq *r, const struct xnode *n, const char *attr)
{
	return json_string_value(nval(r, n, attr));
}

static json_int_t nint(struct xreq *r, const struct xnode *n, const char *attr)
{
	return json_integer_value(nval(r, n, attr));
}

static const char *pool_name(struct xreq *r, const struct xnode *pool)
{
	const char *s = nstr(r, pool, "name");

	return s ? s : pool->id;
}

/* The single peer of relationship `rel` of n (NULL when none). */
static int peer1(struct xreq *r, const struct xnode *n, const char *rel,
                 struct xnode **out, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, n->kind);
	const struct hfs_rel *rl = k ? hfs_kind_rel(k, rel) : NULL;

	*out = NULL;
	return rl ? xb_peer_one(r->b, n, rl, out, NULL, err) : 0;
}

static int peers(struct xreq *r, const struct xnode *n, const char *rel,
                 struct xpeers *p, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, n->kind);
	const struct hfs_rel *rl = k ? hfs_kind_rel(k, rel) : NULL;

	p->len = 0;
	return rl ? xb_peers(r->b, n, rl, p, err) : 0;
}

/* ---- addresses as big-endian numbers ------------------------------------- */

struct ipn {
	int v6;
	int plen;
	unsigned char a[16];
};

static int ipn_width(const struct ipn *p)
{
	return p->v6 ? 128 : 32;
}

static int ipn_bytes(const struct ipn *p)
{
	return p->v6 ? 16 : 4;
}

static int ipn_parse(struct ipn *p, const char *text)
{
	char addr[64], *end;
	const char *slash;
	size_t n;
	long len;

	memset(p, 0, sizeof(*p));
	if (!text)
		return -1;
	slash = strchr(text, '/');
	n = slash ? (size_t)(slash - text) : strlen(text);
	if (n >= sizeof(addr))
		return -1;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, p->a) == 1)
		p->v6 = 0;
	else if (inet_pton(AF_INET6, addr, p->a) == 1)
		p->v6 = 1;
	else
		return -1;
	p->plen = ipn_width(p);
	if (!slash)
		return 0;
	len = strtol(slash + 1, &end, 10);
	if (end == slash + 1 || *end || len < 0 || len > p->plen)
		return -1;
	p->plen = (int)len;
	return 0;
}

static void ipn_text(hf_buf *b, const struct ipn *p, const unsigned char *a,
                     int plen)
{
	char t[64];

	if (inet_ntop(p->v6 ? AF_INET6 : AF_INET, a, t, sizeof(t)))
		hf_buf_addf(b, "%s/%d", t, plen);
}

/* a with the bits after the first `plen` cleared (last 0) or set. */
static void edge(unsigned char *out, const unsigned char *a, int nbytes,
                 int plen, int last)
{
	int i;

	for (i = 0; i < nbytes; i++) {
		int bits = plen - i * 8;
		unsigned m = bits >= 8   ? 0xffu
		             : bits <= 0 ? 0u
		                         : (0xffu << (8 - bits)) & 0xffu;

		out[i] = (unsigned char)(last ? (a[i] | (~m & 0xffu))
		                              : (a[i] & m));
	}
}

/* a += the size of a block of prefix length plen; 1 on overflow. */
static int step(unsigned char *a, int plen)
{
	unsigned carry;
	int i;

	if (plen <= 0)
		return 1;
	carry = 1u << (7 - (plen - 1) % 8);
	for (i = (plen - 1) / 8; i >= 0 && carry; i--) {
		unsigned v = a[i] + carry;

		a[i] = (unsigned char)(v & 0xffu);
		carry = v >> 8;
	}
	return carry != 0;
}

/* Whether p lies inside net (same family). */
static int ipn_inside(const struct ipn *p, const struct ipn *net)
{
	unsigned char x[16], y[16];
	int nb = ipn_bytes(net);

	if (p->v6 != net->v6 || p->plen < net->plen)
		return 0;
	edge(x, p->a, nb, net->plen, 0);
	edge(y, net->a, nb, net->plen, 0);
	return memcmp(x, y, (size_t)nb) == 0;
}

struct ipset {
	struct ipn *v;
	size_t n;
	size_t cap;
};

static int ipset_push(struct ipset *s, const struct ipn *p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct ipn *v = hf_reallocarray(s->v, cap, sizeof(*v));

		if (!v)
			return HF_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *p;
	return 0;
}

static int cmp_host(const void *x, const void *y)
{
	return memcmp(((const struct ipn *)x)->a, ((const struct ipn *)y)->a,
	              16);
}

/*
 * The lowest free host of net, given the hosts in use. The network
 * address, and the IPv4 broadcast address, are not hosts unless the
 * prefix is a pool (is_pool), as in Infrahub's get_available().
 */
static int free_host(const struct ipn *net, int is_pool, struct ipset *used,
                     unsigned char *out)
{
	int nb = ipn_bytes(net), w = ipn_width(net), c;
	unsigned char cand[16] = { 0 }, last[16] = { 0 };
	size_t i;

	edge(cand, net->a, nb, net->plen, 0);
	edge(last, net->a, nb, net->plen, 1);
	if (!is_pool && step(cand, w))
		return 0;
	if (used->n)
		qsort(used->v, used->n, sizeof(*used->v), cmp_host);
	for (i = 0; i < used->n; i++) {
		c = memcmp(used->v[i].a, cand, (size_t)nb);
		if (c < 0)
			continue;
		if (c > 0)
			break;
		if (step(cand, w))
			return 0;
	}
	c = memcmp(cand, last, (size_t)nb);
	if (c > 0 || (c == 0 && !is_pool && !net->v6))
		return 0;
	memcpy(out, cand, 16);
	return 1;
}

/* The first prefix of `used` overlapping [lo, hi], or NULL. */
static const struct ipn *overlap(const struct ipset *used,
                                 const unsigned char *lo,
                                 const unsigned char *hi, int nb,
                                 unsigned char *s_last)
{
	unsigned char sf[16];
	size_t i;

	for (i = 0; i < used->n; i++) {
		const struct ipn *s = &used->v[i];

		edge(sf, s->a, nb, s->plen, 0);
		edge(s_last, s->a, nb, s->plen, 1);
		if (memcmp(sf, hi, (size_t)nb) <= 0 &&
		    memcmp(s_last, lo, (size_t)nb) >= 0)
			return s;
	}
	return NULL;
}

/* The lowest aligned /plen inside res that overlaps nothing in used. */
static int free_net(const struct ipn *res, int plen, const struct ipset *used,
                    struct ipn *out)
{
	int nb = ipn_bytes(res), w = ipn_width(res);
	unsigned char c[16] = { 0 }, rlast[16] = { 0 }, blast[16] = { 0 };
	unsigned char slast[16] = { 0 };
	const struct ipn *hit;

	if (plen < res->plen || plen > w)
		return 0;
	edge(c, res->a, nb, res->plen, 0);
	edge(rlast, res->a, nb, res->plen, 1);
	for (;;) {
		edge(blast, c, nb, plen, 1);
		hit = overlap(used, c, blast, nb, slast);
		if (!hit) {
			memset(out, 0, sizeof(*out));
			out->v6 = res->v6;
			out->plen = plen;
			memcpy(out->a, c, 16);
			return 1;
		}
		/* a larger prefix holds the whole block: jump past it */
		memcpy(c, hit->plen <= plen ? slast : blast, 16);
		if (step(c, w) || memcmp(c, rlast, (size_t)nb) > 0)
			return 0;
	}
}

/* ---- what the namespace holds -------------------------------------------- */

/* Whether n belongs to namespace ns (NULL: any). */
static int in_namespace(struct xreq *r, const struct xnode *n,
                        const struct xnode *ns, int *ok, hf_error *err)
{
	struct xnode *p;
	int rc;

	*ok = 1;
	if (!ns)
		return 0;
	rc = peer1(r, n, "ip_namespace", &p, err);
	*ok = rc == 0 && p == ns;
	return rc;
}

/*
 * Into `set`: the values of `attr` of every node inheriting `generic` in
 * namespace ns that lie inside net (prefixes: strictly inside).
 */
static int collect(struct xreq *r, const char *generic, const char *attr,
                   const struct xnode *ns, const struct ipn *net,
                   struct ipset *set, hf_error *err)
{
	const struct hfs_kind *g = hfs_schema_kind(r->s, generic);
	struct xnode **v;
	struct ipn p;
	size_t i, j, n;
	int rc = 0, ok, host = !strcmp(attr, "address");

	for (i = 0; g && rc == 0 && i < g->used_by.n; i++) {
		xb_kind_nodes(r->b, g->used_by.v[i], &v, &n);
		for (j = 0; rc == 0 && j < n; j++) {
			if (ipn_parse(&p, nstr(r, v[j], attr)) < 0)
				continue;
			if (host)
				p.plen = ipn_width(&p);
			if (!ipn_inside(&p, net) ||
			    (!host && p.plen == net->plen))
				continue;
			rc = in_namespace(r, v[j], ns, &ok, err);
			if (rc == 0 && ok && ipset_push(set, &p) < 0)
				rc = hf_error_set(err, HF_ENOMEM,
				                  "out of memory");
		}
	}
	return rc;
}

/* Allocations of the pool made on other branches, inside net. */
static int collect_elsewhere(struct xreq *r, const json_t *st,
                             const struct ipn *net, int host, struct ipset *set,
                             hf_error *err)
{
	json_t *e;
	struct ipn p;
	size_t i;

	json_array_foreach(json_object_get(st, "allocated"), i, e)
	{
		const char *br =
		        json_string_value(json_object_get(e, "branch"));

		if (!br || !strcmp(br, r->branch) ||
		    ipn_parse(&p, json_string_value(
		                          json_object_get(e, "value"))) < 0)
			continue;
		if (host)
			p.plen = ipn_width(&p);
		if (!ipn_inside(&p, net))
			continue;
		if (ipset_push(set, &p) < 0)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- reservations -------------------------------------------------------- */

static int state_load(struct xreq *r, const struct xnode *pool, json_t **out,
                      hf_error *err)
{
	char key[64], *text = NULL;
	json_t *st;
	int rc;

	*out = NULL;
	snprintf(key, sizeof(key), "pool:%s", pool->id);
	rc = hfs_db_meta_get(r->db, key, &text, err);
	if (rc == HF_ENOTFOUND) {
		hf_error_clear(err);
		rc = 0;
	}
	if (rc < 0)
		return rc;
	st = text ? json_loads(text, 0, NULL) : NULL;
	hf_free(text);
	if (!json_is_object(st)) {
		json_decref(st);
		st = json_object();
	}
	if (st && !json_is_object(json_object_get(st, "reserved")))
		json_object_set_new(st, "reserved", json_object());
	if (st && !json_is_array(json_object_get(st, "allocated")))
		json_object_set_new(st, "allocated", json_array());
	if (!st || !json_object_get(st, "allocated")) {
		json_decref(st);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	*out = st;
	return 0;
}

static int state_save(struct xreq *r, const struct xnode *pool,
                      const json_t *st, hf_error *err)
{
	char key[64], *text = json_dumps(st, JSON_COMPACT);
	int rc;

	if (!text)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	snprintf(key, sizeof(key), "pool:%s", pool->id);
	rc = hfs_db_meta_set(r->db, key, text, err);
	hf_free(text);
	return rc;
}

/* Record an IP allocation (and its identifier), then save. */
static int record(struct xreq *r, const struct xnode *pool, json_t *st,
                  const char *identifier, const struct xnode *n,
                  const char *value, hf_error *err)
{
	json_t *e = json_pack("{ssssss}", "id", n->id, "value", value, "branch",
	                      r->branch);

	if (!e ||
	    json_array_append_new(json_object_get(st, "allocated"), e) < 0 ||
	    (identifier &&
	     json_object_set_new(json_object_get(st, "reserved"), identifier,
	                         json_string(n->id)) < 0))
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	return state_save(r, pool, st, err);
}

/* ---- allocation ---------------------------------------------------------- */

void xp_req_from_input(struct xp_req *q, const json_t *fp)
{
	static const char *const lens[] = { "prefix_length", "prefixlen",
		                            "size" };
	size_t i;

	memset(q, 0, sizeof(*q));
	q->identifier = json_string_value(json_object_get(fp, "identifier"));
	q->data = json_is_object(json_object_get(fp, "data"))
	                  ? json_object_get(fp, "data")
	                  : NULL;
	for (i = 0; !q->prefixlen && i < 3; i++)
		q->prefixlen =
		        (long)json_integer_value(json_object_get(fp, lens[i]));
	q->member_type = json_string_value(json_object_get(fp, "member_type"));
	q->prefix_type = json_string_value(json_object_get(fp, "prefix_type"));
	q->address_type =
	        json_string_value(json_object_get(fp, "address_type"));
}

static int find_by_id(struct xreq *r, const struct hfs_kind *k,
                      const json_t *id, struct xnode **out, hf_error *err)
{
	const char *s = json_string_value(id);
	struct xsplit sp;

	*out = NULL;
	if (hfs_db_is_uuid(s)) {
		*out = xb_node(r->b, s);
		if (*out && !hfs_schema_is_a(r->s, (*out)->kind, k->kind))
			*out = NULL;
		return 0;
	}
	xsplit_path(&sp, k->default_filter ? k->default_filter : "name");
	return xb_find_value(r->b, k, sp.p[0], id, out, err);
}

int xp_find(struct xreq *r, const char *kind, const json_t *id,
            const json_t *hfid, struct xnode **out, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, kind);
	hf_buf t = HF_BUF_INIT;
	int rc = 0;

	*out = NULL;
	if (!k)
		return hf_error_set(err, HF_EINVAL,
		                    "%s is not part of this schema", kind);
	if (json_is_string(id))
		rc = find_by_id(r, k, id, out, err);
	else if (json_is_array(hfid))
		rc = xb_find_hfid(r->b, k, hfid, out, err);
	if (rc < 0 || *out)
		return rc;
	if (json_is_string(id))
		hf_buf_add(&t, json_string_value(id));
	else
		xpy_list(&t, hfid);
	rc = hf_error_set(err, HF_ENOTFOUND,
	                  "Unable to find the node %s / %s in the database.",
	                  t.ptr, kind);
	hf_buf_release(&t);
	return rc;
}

static int weight_of(struct xreq *r, const struct xnode *n)
{
	return (int)nint(r, n, "allocation_weight");
}

/* The pool's resources, heaviest allocation_weight first (stable). */
static int resources(struct xreq *r, const struct xnode *pool, struct xpeers *p,
                     hf_error *err)
{
	size_t i, j;
	int rc = peers(r, pool, "resources", p, err);

	for (i = 1; rc == 0 && i < p->len; i++) {
		struct xnode *n = p->n[i];
		struct xedge *e = p->e[i];

		for (j = i;
		     j > 0 && weight_of(r, p->n[j - 1]) < weight_of(r, n);
		     j--) {
			p->n[j] = p->n[j - 1];
			p->e[j] = p->e[j - 1];
		}
		p->n[j] = n;
		p->e[j] = e;
	}
	return rc;
}

static int is_pool_key(const char *key)
{
	static const char *const keys[] = { "prefixlen",   "prefix_length",
		                            "size",        "prefix_type",
		                            "member_type", "address_type",
		                            NULL };
	size_t i;

	for (i = 0; keys[i]; i++) {
		if (!strcmp(key, keys[i]))
			return 1;
	}
	return 0;
}

static json_t *rel_ref(const json_t *v)
{
	json_t *arr, *item;
	size_t i;

	if (json_is_string(v))
		return json_pack("{sO}", "id", v);
	if (!json_is_array(v))
		return json_deep_copy(v);
	arr = json_array();
	json_array_foreach(v, i, item)
	{
		json_array_append_new(arr, rel_ref(item));
	}
	return arr;
}

/*
 * Mutation input from the `data` of an allocation, which gives plain
 * values as Node.new(**data) takes them: attributes become {value},
 * relationship ids {id}.
 */
static int input_from_data(const struct hfs_kind *k, const json_t *data,
                           json_t *in)
{
	const char *key;
	json_t *v, *x;

	json_object_foreach((json_t *)(uintptr_t)data, key, v)
	{
		if (is_pool_key(key))
			continue;
		if (hfs_kind_attr(k, key))
			x = json_is_object(v) && json_object_get(v, "value")
			            ? json_deep_copy(v)
			            : json_pack("{sO}", "value", v);
		else if (hfs_kind_rel(k, key))
			x = rel_ref(v);
		else
			x = json_deep_copy(v);
		if (!x || json_object_set_new(in, key, x) < 0)
			return HF_ENOMEM;
	}
	return 0;
}

struct newip {
	const struct hfs_kind *k;
	const char *attr; /* "address" or "prefix" */
	const char *value;
	const struct xnode *ns;
	const char *member_type;
	const json_t *data;
};

static int create_ip(struct xreq *r, const struct newip *ni, struct xnode **out,
                     hf_error *err)
{
	json_t *in = json_object();
	int rc = in ? 0 : HF_ENOMEM;

	if (rc == 0 && ni->data)
		rc = input_from_data(ni->k, ni->data, in);
	if (rc == 0)
		rc = json_object_set_new(in, ni->attr,
		                         json_pack("{ss}", "value", ni->value));
	if (rc == 0 && ni->ns && hfs_kind_rel(ni->k, "ip_namespace"))
		rc = json_object_set_new(in, "ip_namespace",
		                         json_pack("{ss}", "id", ni->ns->id));
	if (rc == 0 && ni->member_type && hfs_kind_attr(ni->k, "member_type"))
		rc = json_object_set_new(
		        in, "member_type",
		        json_pack("{ss}", "value", ni->member_type));
	if (rc < 0)
		rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	else
		rc = xm_create(r, ni->k, in, out, err);
	json_decref(in);
	return rc;
}

static int ip_kind(struct xreq *r, const char *type, const char *generic,
                   const struct hfs_kind **out, hf_error *err)
{
	*out = type ? hfs_schema_kind(r->s, type) : NULL;
	if (*out && !(*out)->is_generic && hfs_schema_is_a(r->s, type, generic))
		return 0;
	return hf_error_set(err, HF_EINVAL,
	                    "Unable to find the schema '%s' in the registry",
	                    type ? type : "");
}

static const char *data_str(const json_t *data, const char *key)
{
	return json_string_value(json_object_get(data, key));
}

/* The next free host of one resource, as "ip/len" into `text`. */
static int next_host(struct xreq *r, const json_t *st, const struct xnode *ns,
                     const struct xnode *res, long plen, hf_buf *text,
                     hf_error *err)
{
	struct ipset used = { NULL, 0, 0 };
	unsigned char host[16];
	struct ipn net;
	long len;
	int rc;

	if (ipn_parse(&net, nstr(r, res, "prefix")) < 0)
		return 0;
	len = plen ? plen : net.plen;
	if (len < net.plen || len > ipn_width(&net))
		return hf_error_set(err, HF_EINVAL,
		                    "Invalid prefix length for current "
		                    "selected prefix at <Undefined>");
	rc = collect(r, "BuiltinIPAddress", "address", ns, &net, &used, err);
	if (rc == 0 && st)
		rc = collect_elsewhere(r, st, &net, 1, &used, err);
	if (rc == 0 &&
	    free_host(&net, json_is_true(nval(r, res, "is_pool")), &used, host))
		ipn_text(text, &net, host, (int)len);
	hf_free(used.v);
	return rc;
}

static int alloc_address(struct xreq *r, struct xnode *pool, json_t *st,
                         const struct xp_req *q, struct xnode **out,
                         hf_error *err)
{
	const char *type = q->address_type;
	struct xpeers res = { NULL, NULL, 0, 0 };
	hf_buf text = HF_BUF_INIT;
	struct newip ni = { NULL, "address", NULL, NULL, NULL, q->data };
	struct xnode *ns = NULL;
	long plen = q->prefixlen;
	size_t i;
	int rc;

	if (!type)
		type = data_str(q->data, "address_type");
	if (!type)
		type = nstr(r, pool, "default_address_type");
	if (!type)
		return hf_error_set(err, HF_EINVAL,
		                    "IPAddressPool: %s | An address_type or a "
		                    "default_value type must be provided to "
		                    "allocate a new IP address",
		                    pool_name(r, pool));
	if (!plen)
		plen = (long)json_integer_value(
		        json_object_get(q->data, "prefixlen"));
	if (!plen)
		plen = (long)nint(r, pool, "default_prefix_length");
	rc = ip_kind(r, type, "BuiltinIPAddress", &ni.k, err);
	if (rc == 0)
		rc = peer1(r, pool, "ip_namespace", &ns, err);
	if (rc == 0)
		rc = resources(r, pool, &res, err);
	for (i = 0; rc == 0 && !text.len && i < res.len; i++)
		rc = next_host(r, st, ns, res.n[i], plen, &text, err);
	if (rc == 0 && !text.len)
		rc = hf_error_set(err, HF_ECONFLICT,
		                  "There are no more addresses available in "
		                  "this pool.");
	ni.value = text.ptr;
	ni.ns = ns;
	if (rc == 0)
		rc = create_ip(r, &ni, out, err);
	if (rc == 0)
		rc = record(r, pool, st, q->identifier, *out, text.ptr, err);
	hf_buf_release(&text);
	xpeers_release(&res);
	return rc;
}

static int next_net(struct xreq *r, const json_t *st, const struct xnode *ns,
                    const struct xnode *res, long plen, hf_buf *text,
                    hf_error *err)
{
	struct ipset used = { NULL, 0, 0 };
	struct ipn net, got;
	int rc;

	if (ipn_parse(&net, nstr(r, res, "prefix")) < 0)
		return 0;
	rc = collect(r, "BuiltinIPPrefix", "prefix", ns, &net, &used, err);
	if (rc == 0 && st)
		rc = collect_elsewhere(r, st, &net, 0, &used, err);
	if (rc == 0 && free_net(&net, (int)plen, &used, &got))
		ipn_text(text, &got, got.a, got.plen);
	hf_free(used.v);
	return rc;
}

static const char *prefix_type_of(struct xreq *r, const struct xnode *pool,
                                  const struct xp_req *q)
{
	const char *t = q->prefix_type;

	if (!t)
		t = data_str(q->data, "prefix_type");
	return t ? t : nstr(r, pool, "default_prefix_type");
}

static const char *member_type_of(struct xreq *r, const struct xnode *pool,
                                  const struct xp_req *q)
{
	const char *t = q->member_type;

	if (!t)
		t = data_str(q->data, "member_type");
	if (!t)
		t = nstr(r, pool, "default_member_type");
	return t ? t : "prefix";
}

static int alloc_prefix(struct xreq *r, struct xnode *pool, json_t *st,
                        const struct xp_req *q, struct xnode **out,
                        hf_error *err)
{
	struct xpeers res = { NULL, NULL, 0, 0 };
	hf_buf text = HF_BUF_INIT;
	struct newip ni = { NULL, "prefix", NULL, NULL, NULL, q->data };
	struct xnode *ns = NULL;
	const char *type;
	long plen = q->prefixlen;
	size_t i;
	int rc;

	if (!plen)
		plen = (long)json_integer_value(
		        json_object_get(q->data, "prefixlen"));
	if (!plen)
		plen = (long)nint(r, pool, "default_prefix_length");
	if (!plen)
		return hf_error_set(
		        err, HF_EINVAL,
		        "IPPrefixPool: %s | A prefixlen or a "
		        "default_value must be provided to allocate "
		        "a new prefix",
		        pool_name(r, pool));
	rc = peer1(r, pool, "ip_namespace", &ns, err);
	if (rc == 0)
		rc = resources(r, pool, &res, err);
	for (i = 0; rc == 0 && !text.len && i < res.len; i++)
		rc = next_net(r, st, ns, res.n[i], plen, &text, err);
	if (rc == 0 && !text.len)
		rc = hf_error_set(err, HF_ECONFLICT,
		                  "No more resources available");
	type = prefix_type_of(r, pool, q);
	if (rc == 0 && !type)
		rc = hf_error_set(err, HF_EINVAL,
		                  "IPPrefixPool: %s | A prefix_type or a "
		                  "default_value type must be provided to "
		                  "allocate a new prefix",
		                  pool_name(r, pool));
	if (rc == 0)
		rc = ip_kind(r, type, "BuiltinIPPrefix", &ni.k, err);
	ni.value = text.ptr;
	ni.ns = ns;
	ni.member_type = member_type_of(r, pool, q);
	if (rc == 0)
		rc = create_ip(r, &ni, out, err);
	if (rc == 0)
		rc = record(r, pool, st, q->identifier, *out, text.ptr, err);
	hf_buf_release(&text);
	xpeers_release(&res);
	return rc;
}

int xp_allocate(struct xreq *r, struct xnode *pool, const struct xp_req *q,
                struct xnode **out, hf_error *err)
{
	json_t *st = NULL;
	const char *id;
	int rc;

	*out = NULL;
	rc = state_load(r, pool, &st, err);
	id = rc == 0 && q->identifier
	             ? json_string_value(json_object_get(
	                       json_object_get(st, "reserved"), q->identifier))
	             : NULL;
	if (id)
		*out = xb_node(r->b, id);
	if (rc < 0 || *out) {
		json_decref(st);
		return rc;
	}
	if (hfs_schema_is_a(r->s, pool->kind, "CoreIPPrefixPool"))
		rc = alloc_prefix(r, pool, st, q, out, err);
	else if (hfs_schema_is_a(r->s, pool->kind, "CoreIPAddressPool"))
		rc = alloc_address(r, pool, st, q, out, err);
	else
		rc = hf_error_set(err, HF_EINVAL,
		                  "%s is not an IP address or IP prefix pool",
		                  pool_name(r, pool));
	json_decref(st);
	return rc;
}

/* ---- numbers ------------------------------------------------------------- */

static int cmp_int(const void *x, const void *y)
{
	json_int_t a = *(const json_int_t *)x, b = *(const json_int_t *)y;

	return a < b ? -1 : a > b;
}

/* The lowest number of [lo, hi] not in the reservations. */
static int free_number(const json_t *reserved, json_int_t lo, json_int_t hi,
                       json_int_t *out)
{
	size_t n = json_object_size(reserved), i = 0;
	json_int_t *v = hf_calloc(n ? n : 1, sizeof(*v)), cand = lo;
	const char *key;
	json_t *x;

	if (!v)
		return HF_ENOMEM;
	json_object_foreach((json_t *)(uintptr_t)reserved, key, x)
	{
		v[i++] = json_integer_value(x);
	}
	qsort(v, n, sizeof(*v), cmp_int);
	for (i = 0; i < n && cand <= hi; i++) {
		if (v[i] == cand)
			cand++;
	}
	hf_free(v);
	if (cand > hi)
		return 0;
	*out = cand;
	return 1;
}

int xp_number(struct xreq *r, struct xnode *pool, const char *kind,
              const char *attr, const char *identifier, json_int_t *out,
              hf_error *err)
{
	const char *node = nstr(r, pool, "node");
	const char *nattr = nstr(r, pool, "node_attribute");
	json_t *st = NULL, *resv, *got;
	int rc;

	if (!hfs_schema_is_a(r->s, pool->kind, "CoreNumberPool") || !node ||
	    !hfs_schema_is_a(r->s, kind, node) || !nattr || strcmp(nattr, attr))
		return hf_error_set(err, HF_EINVAL,
		                    "The %s pool can't be used for '%s'. at "
		                    "%s.from_pool",
		                    pool_name(r, pool), attr, attr);
	rc = state_load(r, pool, &st, err);
	resv = st ? json_object_get(st, "reserved") : NULL;
	got = resv ? json_object_get(resv, identifier) : NULL;
	if (rc == 0 && json_is_integer(got)) {
		*out = json_integer_value(got);
	} else if (rc == 0) {
		rc = free_number(resv, nint(r, pool, "start_range"),
		                 nint(r, pool, "end_range"), out);
		if (rc == 0)
			rc = hf_error_set(err, HF_ECONFLICT,
			                  "The pool %s is exhausted. at "
			                  "%s.from_pool",
			                  pool_name(r, pool), attr);
		else if (rc > 0 && json_object_set_new(resv, identifier,
		                                       json_integer(*out)) == 0)
			rc = state_save(r, pool, st, err);
		else if (rc > 0 || rc == HF_ENOMEM)
			rc = hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	json_decref(st);
	return rc;
}

/* ---- GraphQL: InfrahubIP*PoolGetResource --------------------------------- */

int xp_is_mutation(const char *name)
{
	return !strcmp(name, M_ADDR) || !strcmp(name, M_PREFIX);
}

int xp_is_query(const char *name)
{
	return !strcmp(name, Q_ADDR) || !strcmp(name, Q_PREFIX);
}

static int write_allocated(struct xreq *r, const struct xnode *n,
                           const char *identifier,
                           const struct hfs_gql_field_group *g, hf_error *err)
{
	const struct hfs_kind *k = hfs_schema_kind(r->s, n->kind);
	const struct hfs_gql_fields *f;
	hf_buf t = HF_BUF_INIT;
	size_t i;
	int first = 1, rc;

	rc = xr_collect(r, "PoolAllocatedNode", g, NULL, &f, err);
	hf_buf_addch(&r->out, '{');
	for (i = 0; rc == 0 && i < f->count; i++) {
		const char *name = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(name, "id"))
			xw_str(&r->out, n->id);
		else if (!strcmp(name, "kind"))
			xw_str(&r->out, n->kind);
		else if (!strcmp(name, "branch"))
			xw_str(&r->out, r->branch);
		else if (!strcmp(name, "identifier"))
			xw_str(&r->out, identifier);
		else if (!strcmp(name, "__typename"))
			xw_str(&r->out, "PoolAllocatedNode");
		else if (!strcmp(name, "display_label")) {
			hf_buf_reset(&t);
			rc = xn_label(r->b, k, n, &t, err);
			xw_strn(&r->out, t.ptr, t.len);
		} else
			hf_buf_add(&r->out, "null");
	}
	hf_buf_addch(&r->out, '}');
	hf_buf_release(&t);
	return rc;
}

static int write_pool_out(struct xreq *r, const struct hfs_gql_field_group *g,
                          const struct xnode *n, const char *identifier,
                          hf_error *err)
{
	const char *name = g->fields[0]->name + strlen("Infrahub");
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1, rc;

	rc = xr_collect(r, name, g, NULL, &f, err);
	if (rc < 0)
		return rc;
	hf_buf_addch(&r->out, '{');
	for (i = 0; rc == 0 && i < f->count; i++) {
		const char *fn = f->groups[i].fields[0]->name;

		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(fn, "ok"))
			hf_buf_add(&r->out, "true");
		else if (!strcmp(fn, "node"))
			rc = write_allocated(r, n, identifier, &f->groups[i],
			                     err);
		else if (!strcmp(fn, "__typename"))
			xw_str(&r->out, name);
		else
			hf_buf_add(&r->out, "null");
	}
	hf_buf_addch(&r->out, '}');
	return rc;
}

static int check_member_type(const json_t *in, hf_error *err)
{
	const char *mt = json_string_value(json_object_get(in, "member_type"));

	if (!mt || !strcmp(mt, "prefix") || !strcmp(mt, "address"))
		return 0;
	return hf_error_set(err, HF_EINVAL,
	                    "Invalid member_type value, allowed values are "
	                    "['prefix', 'address']");
}

/*
 * InfrahubIPAddressPoolGetResource / InfrahubIPPrefixPoolGetResource
 * (data: {id | hfid, identifier, prefix_length, member_type, prefix_type,
 * address_type, data}) -> {ok, node: PoolAllocatedNode}, as in
 * graphql/mutations/resource_manager/ip_pools.py (1.6+ names; the
 * unprefixed ones were removed in 1.9).
 */
int xp_mutation(struct xreq *r, const struct hfs_gql_field_group *g,
                hf_error *err)
{
	const char *name = g->fields[0]->name;
	int prefix = !strcmp(name, M_PREFIX);
	json_t *in = xr_arg(r, g, "data");
	struct xnode *pool = NULL, *n = NULL;
	struct xp_req q;
	int rc;

	rc = xr_branch(r, err);
	if (rc == 0 && !json_is_object(in))
		rc = hf_error_set(err, HF_EINVAL,
		                  "Field '%s' argument 'data' of type '%s' is "
		                  "required, but it was not provided.",
		                  name,
		                  prefix ? "IPPrefixPoolGetResourceInput!"
		                         : "IPAddressPoolGetResourceInput!");
	if (rc == 0 && prefix)
		rc = check_member_type(in, err);
	if (rc == 0)
		rc = xp_find(r,
		             prefix ? "CoreIPPrefixPool" : "CoreIPAddressPool",
		             json_object_get(in, "id"),
		             json_object_get(in, "hfid"), &pool, err);
	xp_req_from_input(&q, in);
	if (rc == 0)
		rc = xp_allocate(r, pool, &q, &n, err);
	if (rc == 0)
		rc = write_pool_out(r, g, n, q.identifier, err);
	json_decref(in);
	return rc;
}

/* ---- GraphQL: InfrahubIP*GetNextAvailable -------------------------------- */

static int write_next(struct xreq *r, const struct hfs_gql_field_group *g,
                      int prefix, const char *value, hf_error *err)
{
	const char *tn = prefix ? "IPPrefixGetNextAvailable"
	                        : "IPAddressGetNextAvailable";
	const struct hfs_gql_fields *f;
	size_t i;
	int first = 1, rc;

	rc = xr_collect(r, tn, g, NULL, &f, err);
	if (rc < 0)
		return rc;
	hf_buf_addch(&r->out, '{');
	for (i = 0; i < f->count; i++) {
		xw_key(&r->out, &first, f->groups[i].key);
		if (!strcmp(f->groups[i].fields[0]->name, "__typename"))
			xw_str(&r->out, tn);
		else
			xw_str(&r->out, value);
	}
	hf_buf_addch(&r->out, '}');
	return 0;
}

/* Without a length: the largest free block (docs: 1.4 release notes). */
static int next_net_any(struct xreq *r, const struct xnode *ns,
                        const struct xnode *pfx, long plen, hf_buf *text,
                        hf_error *err)
{
	struct ipn net;
	int rc = 0;
	long len;

	if (plen)
		return next_net(r, NULL, ns, pfx, plen, text, err);
	if (ipn_parse(&net, nstr(r, pfx, "prefix")) < 0)
		return 0;
	for (len = net.plen; rc == 0 && !text->len && len <= ipn_width(&net);
	     len++)
		rc = next_net(r, NULL, ns, pfx, len, text, err);
	return rc;
}

/*
 * InfrahubIPAddressGetNextAvailable(prefix_id, prefix_length) { address }
 * and InfrahubIPPrefixGetNextAvailable(prefix_id, prefix_length)
 * { prefix }: read-only, nothing is created or reserved
 * (graphql/queries/ipam.py).
 */
int xp_query(struct xreq *r, const struct hfs_gql_field_group *g, hf_error *err)
{
	int prefix = !strcmp(g->fields[0]->name, Q_PREFIX);
	json_t *id = xr_arg(r, g, "prefix_id"), *len;
	struct xnode *pfx = NULL, *ns = NULL;
	hf_buf text = HF_BUF_INIT;
	long plen;
	int rc;

	len = xr_arg(r, g, "prefix_length");
	plen = (long)json_integer_value(len);
	json_decref(len);
	rc = xr_branch(r, err);
	if (rc == 0)
		rc = xp_find(r, "BuiltinIPPrefix", id, NULL, &pfx, err);
	if (rc == 0)
		rc = peer1(r, pfx, "ip_namespace", &ns, err);
	if (rc == 0 && prefix)
		rc = next_net_any(r, ns, pfx, plen, &text, err);
	else if (rc == 0)
		rc = next_host(r, NULL, ns, pfx, plen, &text, err);
	if (rc == 0 && !text.len)
		rc = hf_error_set(err, HF_ECONFLICT, "%s",
		                  prefix ? "No More subnet available"
		                         : "No addresses available in prefix");
	if (rc == 0)
		rc = write_next(r, g, prefix, text.ptr, err);
	hf_buf_release(&text);
	json_decref(id);
	return rc;
}

/* ---- validation rules ---------------------------------------------------- */

static int set_type(struct xtype *out, enum xt t, const char *scalar)
{
	memset(out, 0, sizeof(*out));
	out->t = t;
	out->scalar = scalar;
	return 1;
}

int xp_field_of(const struct xtype *t, const char *name, int mutation,
                struct xtype *out)
{
	static const char *const node[] = { "id",         "kind",
		                            "branch",     "display_label",
		                            "identifier", NULL };
	size_t i;

	if (!t && mutation)
		return xp_is_mutation(name) ? set_type(out, XT_POOL_OUT, name)
		                            : 0;
	if (!t && !strcmp(name, Q_ADDR))
		return set_type(out, XT_NEXT_ADDR, NULL);
	if (!t && !strcmp(name, Q_PREFIX))
		return set_type(out, XT_NEXT_PREFIX, NULL);
	if (!t)
		return 0;
	if (t->t == XT_POOL_OUT && !strcmp(name, "ok"))
		return set_type(out, XT_SCALAR, "Boolean");
	if (t->t == XT_POOL_OUT && !strcmp(name, "node"))
		return set_type(out, XT_POOL_NODE, NULL);
	if (t->t == XT_NEXT_ADDR && !strcmp(name, "address"))
		return set_type(out, XT_SCALAR, "String!");
	if (t->t == XT_NEXT_PREFIX && !strcmp(name, "prefix"))
		return set_type(out, XT_SCALAR, "String!");
	for (i = 0; t->t == XT_POOL_NODE && node[i]; i++) {
		if (!strcmp(name, node[i]))
			return set_type(out, XT_SCALAR, "String");
	}
	return 0;
}

int xp_arg_ok(const char *field, const char *arg)
{
	if (xp_is_query(field))
		return !strcmp(arg, "prefix_id") ||
		       !strcmp(arg, "prefix_length");
	return xp_is_mutation(field) &&
	       (!strcmp(arg, "data") || !strcmp(arg, "context"));
}
