/*
 * The scripted transport for tests (fake_transport.h).
 */
#include <string.h>

#include "fake_transport.h"
#include "hf/alloc.h"
#include "hf/banned.h"

enum rule_type { RULE_ANSWER, RULE_FAIL, RULE_HANDLER, RULE_TEXT };

struct rule {
	enum rule_type type;
	char *match;
	int times; /* uses left; -1: unlimited */
	json_t *answer;
	int rc;
	char *msg;
	hf_fake_handler_fn fn;
	void *payload;
	char *text; /* RULE_TEXT: the answer's body */
	size_t len;
};

struct entry {
	struct hf_fake_req req;
	void *user;
	hf_tx_scan_fn scan;
	int queued; /* submitted, not yet completed */
};

struct hf_fake {
	struct hf_transport tr; /* first: the handle */
	struct rule *rules;
	size_t nrules;
	struct entry **log;
	size_t nlog, cap;
	size_t head; /* entries before it have completed */
	int stopped;
	int run_rc; /* the next run fails with it (0: no) */
	int running;
};

static hf_fake *of(hf_transport *t)
{
	return (hf_fake *)(void *)t;
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	hf_free(e->req.branch);
	hf_free(e->req.query);
	hf_free(e->req.path);
	json_decref(e->req.variables);
	json_decref(e->req.body);
	hf_free(e);
}

/* A copy of `s`; 0 (also for NULL) or -1 on OOM. */
static int dup_opt(char **out, const char *s)
{
	*out = s ? hf_strdup(s) : NULL;
	return s && !*out ? -1 : 0;
}

static int json_opt(json_t **out, const json_t *j)
{
	*out = j ? json_deep_copy(j) : NULL;
	return j && !*out ? -1 : 0;
}

static int fk_submit(hf_transport *t, const struct hf_tx_request *r,
                     hf_error *err)
{
	hf_fake *f = of(t);
	struct entry *e, **grown;

	if (r->kind == HF_TX_GRAPHQL ? !r->query : !r->path)
		return hf_error_set(err, HF_EINVAL, "no query or path");
	if (r->variables && !json_is_object(r->variables))
		return hf_error_set(err, HF_EINVAL,
		                    "GraphQL variables must be an object");
	if (f->nlog == f->cap) {
		grown = hf_reallocarray(f->log, f->cap ? f->cap * 2 : 16,
		                        sizeof(*grown));
		if (!grown)
			return hf_error_set(err, HF_ENOMEM, "out of memory");
		f->log = grown;
		f->cap = f->cap ? f->cap * 2 : 16;
	}
	e = hf_calloc(1, sizeof(*e));
	if (!e)
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	e->req.kind = r->kind;
	e->req.flags = r->flags;
	e->user = r->user;
	e->scan = r->kind == HF_TX_GRAPHQL ? r->scan : NULL;
	e->queued = 1;
	if (dup_opt(&e->req.branch, r->branch) < 0 ||
	    dup_opt(&e->req.query, r->query) < 0 ||
	    dup_opt(&e->req.path, r->path) < 0 ||
	    json_opt(&e->req.variables, r->variables) < 0 ||
	    json_opt(&e->req.body, r->body) < 0) {
		entry_free(e);
		return hf_error_set(err, HF_ENOMEM, "out of memory");
	}
	f->log[f->nlog++] = e;
	return 0;
}

static int matches(const char *match, const struct hf_fake_req *r)
{
	const char *text = r->kind == HF_TX_GRAPHQL ? r->query : r->path;

	return !match || (text && strstr(text, match));
}

static struct rule *find_rule(hf_fake *f, const struct hf_fake_req *r)
{
	size_t i;

	for (i = 0; i < f->nrules; i++)
		if (f->rules[i].times != 0 && matches(f->rules[i].match, r)) {
			if (f->rules[i].times > 0)
				f->rules[i].times--;
			return &f->rules[i];
		}
	return NULL;
}

/* The GraphQL reading of an answer, as the HTTP client makes it. */
static void graphql(struct hf_tx_result *x, json_t *answer, hf_error *err)
{
	const char *msg;

	x->data = json_object_get(answer, "data");
	x->errors = json_object_get(answer, "errors");
	if (!json_is_object(x->data)) {
		x->data = NULL;
		msg = hf_tx_error_message(json_array_get(x->errors, 0));
		x->rc = hf_error_set(err, HF_ESERVER, "%s",
		                     msg ? msg : "no data in the answer");
	}
}

/*
 * The body of a GraphQL answer offered to the request's scan, as the
 * client offers it: the rule's text, or the answer written out. 1 when
 * the scan took it.
 */
static int scanned(struct entry *e, const struct rule *rule, json_t *ans,
                   void *payload)
{
	char *text;
	int took;

	if (rule->type == RULE_TEXT)
		return e->scan(e->user, rule->text, rule->len, payload);
	text = ans ? json_dumps(ans, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (!text)
		return 0; /* offered nothing: decoded as usual */
	took = e->scan(e->user, text, strlen(text), payload);
	hf_free(text);
	return took;
}

/* A text rule's answer decoded as the client decodes it (strict). */
static json_t *decoded(const struct rule *rule, struct hf_tx_result *x,
                       hf_error *err)
{
	json_error_t je;
	json_t *j = json_loadb(rule->text, rule->len,
	                       JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);

	if (!j)
		x->rc = hf_error_set(err, HF_ESERVER, "invalid JSON answer: %s",
		                     je.text);
	return j;
}

/* Answer entry `e` and tell the caller. */
static void answer(hf_fake *f, struct entry *e, hf_tx_done_fn done,
                   void *payload)
{
	struct hf_tx_result x;
	hf_error err = HF_ERROR_INIT;
	struct rule *rule = NULL;
	json_t *ans = NULL;

	memset(&x, 0, sizeof(x));
	x.user = e->user;
	x.err = &err;
	e->queued = 0;
	if (f->stopped) {
		x.rc = hf_error_set(&err, HF_ERR, "not sent");
		done(&f->tr, &x, payload);
		return;
	}
	e->req.sent = 1;
	x.attempts = 1;
	x.status = 200;
	rule = find_rule(f, &e->req);
	if (!rule) {
		x.rc = hf_error_set(&err, HF_ESERVER,
		                    "fake transport: nothing scripted for %s",
		                    e->req.query ? e->req.query : e->req.path);
	} else if (rule->type == RULE_FAIL) {
		x.status = 0;
		x.rc = hf_error_set(&err, rule->rc, "%s", rule->msg);
	} else if (rule->type == RULE_HANDLER) {
		x.rc = rule->fn(rule->payload, &e->req, &ans, &err);
	} else if (rule->type == RULE_ANSWER) {
		ans = json_incref(rule->answer);
	}
	if (x.rc == 0 && rule && e->scan && scanned(e, rule, ans, payload)) {
		x.scanned = 1;
		e->req.scanned = 1;
		done(&f->tr, &x, payload);
		json_decref(ans);
		return;
	}
	if (x.rc == 0 && rule && rule->type == RULE_TEXT)
		ans = decoded(rule, &x, &err);
	if (x.rc == 0 && e->req.kind == HF_TX_GRAPHQL)
		graphql(&x, ans, &err);
	else if (x.rc == 0)
		x.data = ans;
	done(&f->tr, &x, payload);
	json_decref(ans);
}

static int fk_run(hf_transport *t, hf_tx_done_fn done, void *payload,
                  hf_error *err)
{
	hf_fake *f = of(t);
	int rc = f->run_rc;

	if (f->running)
		return hf_error_set(err, HF_EINVAL,
		                    "run called from its callback");
	if (rc) {
		f->run_rc = 0;
		for (; f->head < f->nlog; f->head++)
			f->log[f->head]->queued = 0;
		return hf_error_set(err, rc, "fake transport: the run failed");
	}
	f->running = 1;
	for (; f->head < f->nlog; f->head++)
		if (f->log[f->head]->queued)
			answer(f, f->log[f->head], done, payload);
	f->running = 0;
	f->stopped = 0;
	return 0;
}

static void fk_stop(hf_transport *t)
{
	of(t)->stopped = 1;
}

static void fk_drop(hf_transport *t)
{
	hf_fake *f = of(t);

	for (; f->head < f->nlog; f->head++)
		f->log[f->head]->queued = 0;
}

static const struct hf_transport_ops fake_ops = { fk_submit, fk_run, fk_stop,
	                                          fk_drop, NULL };

hf_fake *hf_fake_new(void)
{
	hf_fake *f = hf_calloc(1, sizeof(*f));

	if (f)
		f->tr.ops = &fake_ops;
	return f;
}

void hf_fake_clear_log(hf_fake *f)
{
	size_t i;

	for (i = 0; i < f->nlog; i++)
		entry_free(f->log[i]);
	f->nlog = 0;
	f->head = 0;
}

void hf_fake_free(hf_fake *f)
{
	size_t i;

	if (!f)
		return;
	hf_fake_clear_log(f);
	hf_free(f->log);
	for (i = 0; i < f->nrules; i++) {
		hf_free(f->rules[i].match);
		hf_free(f->rules[i].msg);
		hf_free(f->rules[i].text);
		json_decref(f->rules[i].answer);
	}
	hf_free(f->rules);
	hf_free(f);
}

hf_transport *hf_fake_transport(hf_fake *f)
{
	return &f->tr;
}

static struct rule *add_rule(hf_fake *f, enum rule_type type, const char *match,
                             int times)
{
	struct rule *grown = hf_reallocarray(f->rules, f->nrules + 1,
	                                     sizeof(*grown)),
	            *r;

	if (!grown)
		return NULL;
	f->rules = grown;
	r = &f->rules[f->nrules];
	memset(r, 0, sizeof(*r));
	if (dup_opt(&r->match, match) < 0)
		return NULL;
	r->type = type;
	r->times = times;
	f->nrules++;
	return r;
}

int hf_fake_answer(hf_fake *f, const char *match, int times, const char *json)
{
	json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
	struct rule *r;

	if (!j)
		return HF_EINVAL;
	r = add_rule(f, RULE_ANSWER, match, times);
	if (!r) {
		json_decref(j);
		return HF_ENOMEM;
	}
	r->answer = j;
	return 0;
}

int hf_fake_answer_text(hf_fake *f, const char *match, int times,
                        const char *text, size_t len)
{
	struct rule *r = add_rule(f, RULE_TEXT, match, times);

	if (!r)
		return HF_ENOMEM;
	r->text = hf_alloc(len ? len : 1);
	if (!r->text)
		return HF_ENOMEM;
	if (len)
		memcpy(r->text, text, len);
	r->len = len;
	return 0;
}

int hf_fake_fail(hf_fake *f, const char *match, int times, int rc,
                 const char *msg)
{
	struct rule *r = add_rule(f, RULE_FAIL, match, times);

	if (!r)
		return HF_ENOMEM;
	r->rc = rc;
	r->msg = hf_strdup(msg ? msg : "failed");
	return r->msg ? 0 : HF_ENOMEM;
}

int hf_fake_handler(hf_fake *f, const char *match, int times,
                    hf_fake_handler_fn fn, void *payload)
{
	struct rule *r = add_rule(f, RULE_HANDLER, match, times);

	if (!r)
		return HF_ENOMEM;
	r->fn = fn;
	r->payload = payload;
	return 0;
}

void hf_fake_fail_run(hf_fake *f, int rc)
{
	f->run_rc = rc;
}

size_t hf_fake_count(const hf_fake *f)
{
	return f->nlog;
}

const struct hf_fake_req *hf_fake_at(const hf_fake *f, size_t i)
{
	return i < f->nlog ? &f->log[i]->req : NULL;
}

size_t hf_fake_sent(const hf_fake *f, const char *match)
{
	size_t i, n = 0;

	for (i = 0; i < f->nlog; i++)
		n += f->log[i]->req.sent && matches(match, &f->log[i]->req);
	return n;
}
