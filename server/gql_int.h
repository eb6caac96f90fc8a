#ifndef HFS_GQL_INT_H
#define HFS_GQL_INT_H

/*
 * Private to server/gql*.c: the document, the lexer's state and the few
 * functions the GraphQL files share. gql.c holds the document and its
 * fragment table; gql_lex.c the lexer; gql_parse.c the parser;
 * gql_valid.c hfs_gql_validate().
 */
#include <stddef.h>

#include "gql.h"
#include "hf/arena.h"
#include "hf/map.h"

struct hfs_gql_doc {
	hf_arena arena; /* owns the document and everything in it */
	struct hfs_gql_operation *ops;
	struct hfs_gql_fragment *frags;
	size_t nops;
	size_t nfrags;
	size_t nodes;
	/* Fragments by name (first definitions): name -> 1 + index. */
	hf_map frag_map;
	/* Those fragments in document order. */
	const struct hfs_gql_fragment **frag_tab;
	size_t frag_tab_size;
	/* A second definition of a fragment name, for hfs_gql_validate. */
	const struct hfs_gql_fragment *dup_frag;
};

enum tok {
	T_EOF,
	T_BANG,
	T_DOLLAR,
	T_AMP,
	T_LPAREN,
	T_RPAREN,
	T_SPREAD,
	T_COLON,
	T_EQUALS,
	T_AT,
	T_LBRACKET,
	T_RBRACKET,
	T_LBRACE,
	T_PIPE,
	T_RBRACE,
	T_NAME,
	T_INT,
	T_FLOAT,
	T_STRING,
	T_BLOCK_STRING,
};

struct token {
	enum tok kind;
	size_t start;
	size_t end;
	int line;
	int col;
	char *str; /* decoded T_STRING / T_BLOCK_STRING, in the arena */
	size_t len;
};

struct parser {
	const char *src;
	size_t len;
	size_t pos; /* lexer position */
	int line; /* line of pos, 1-based */
	size_t line_start; /* offset where that line starts */
	size_t cpos; /* column cache: offset ... */
	int ccol; /* ... and its column */
	struct token tok; /* the current token (one-token lookahead) */
	hfs_gql_doc *doc;
	hf_error *err;
	int depth;
	int rc;
};

/* gql.c: the fragment table, built once the document is parsed. */
int hfs_gql_frag_table_build(hfs_gql_doc *doc);
/* Index of fragment `name` in doc->frag_tab, or -1. */
long hfs_gql_frag_slot(const hfs_gql_doc *doc, const char *name);

/* gql_lex.c: read the next token into p->tok. Returns 0 or p->rc. */
int hfs_gql_lex(struct parser *p);
/* Set "Syntax Error: ..." at byte offset `pos`; returns HF_EINVAL. */
int hfs_gql_syntax_error(struct parser *p, size_t pos, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Set "out of memory"; returns HF_ENOMEM. */
int hfs_gql_oom(struct parser *p);
/*
 * Copy at most `max` bytes of s[0..n) into out, cut at a character
 * boundary and at any NUL so that messages stay valid UTF-8 strings.
 */
void hfs_gql_clip(char *out, size_t size, const char *s, size_t n, size_t max);

#endif
