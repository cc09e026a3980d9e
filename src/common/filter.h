/*
 * filter.h - filters on the fields of an event: parsed once, bound to each
 * marker's fields, evaluated by the tracer's probe before it reserves room
 * for the event (private to the library and the CLI, which share it: the
 * CLI parses and checks a filter up front, the library evaluates it).
 *
 * The language (after LTTng-UST's filter expressions):
 *
 *   expr     := and ( '||' and )*
 *   and      := unary ( '&&' unary )*
 *   unary    := '!' unary | '(' expr ')' | compare
 *   compare  := operand [ op operand ]        op: == != < <= > >=
 *   operand  := FIELD | INTEGER | FLOAT | STRING | '-' (INTEGER | FLOAT)
 *
 * FIELD is a field name as the trace names it (field_names.h).  INTEGER is
 * decimal or hexadecimal (0x); FLOAT has a '.' or an exponent; STRING is
 * double-quoted, with \" \\ \* \n \t escapes, and a plain '*' in it is a
 * wildcard for any run of characters (only with == and !=).  An operand
 * alone is true when it is not 0.  Integers compare exactly whatever their
 * signedness (-1 < a uint64_t field of 0); an integer against a float field
 * or a float literal compares as double.  Strings compare only with == and
 * !=.  Each event's fields are the marker's: a filter naming a field that
 * a marker does not have cannot be bound to it.
 *
 * Limits: MARKER__FILTER_SRC_MAX characters, MARKER__FILTER_NODES nodes
 * (operators and comparisons) and 16 levels of parentheses.
 *
 * Concurrency: a parsed filter is immutable; parse and free are not
 * async-signal-safe.  bind (with a NULL @err) and eval are: no allocation,
 * no lock, no system call, bounded stack; any number of threads may bind
 * and evaluate one parsed filter at the same time.
 */
#ifndef MARKERS_FILTER_H
#define MARKERS_FILTER_H

#include <stddef.h>
#include <stdint.h>

#define MARKER__FILTER_SRC_MAX 1024
#define MARKER__FILTER_NODES 40

/* Where and why a filter cannot be parsed or bound. */
struct marker__filter_err {
	unsigned column; /* 1-based, in the expression; 0 when the error is not a place */
	char msg[256];   /* one line, without the column */
};

/* An operand: a field (bound: its argument index and type code), or a literal. */
struct marker__filter_opnd {
	uint8_t kind;   /* MF_FIELD, MF_INT, MF_UINT, MF_FLOAT, MF_STR */
	uint8_t arg;    /* MF_FIELD, bound: index into the event's arguments */
	char type;      /* MF_FIELD, bound: MARKER_TYPE_* */
	uint8_t wild;   /* MF_STR: holds an unescaped '*' */
	uint16_t off;   /* MF_FIELD (name) and MF_STR (text): offset in the filter's text */
	uint16_t len;
	union {
		int64_t s;
		uint64_t u;
		double d;
	};
};

struct marker__filter_node {
	uint8_t op;        /* MF_AND, MF_OR, MF_NOT, MF_TRUTH, MF_EQ ... MF_GE */
	uint8_t a, b;      /* children of AND, OR (a, b) and NOT (a) */
	uint8_t fast;      /* bound: an integer field of at most 63 bits against an integer */
	uint16_t column;   /* of the operator or the operand, for messages */
	struct marker__filter_opnd l, r; /* comparisons; MF_TRUTH uses l */
};

/* A filter bound to one marker's fields: what the probe evaluates. */
struct marker__filter_prog {
	const char *text; /* the parsed filter's decoded strings (it outlives the program) */
	uint8_t n, root;
	struct marker__filter_node nodes[MARKER__FILTER_NODES];
};

struct marker__filter; /* parsed, not bound */

/*
 * marker__filter_parse - parse @src.  Returns 0 with *@out set, -EINVAL
 * (@err: the column and what is wrong there), -ENOMEM.
 */
int marker__filter_parse(const char *src, struct marker__filter **out,
			 struct marker__filter_err *err);
void marker__filter_free(struct marker__filter *f);
/* The text it was parsed from. */
const char *marker__filter_source(const struct marker__filter *f);

/*
 * marker__filter_bind - resolve @f's fields against the marker @name whose
 * format is @format and argument type codes @types (markers/abi.h).
 * Returns 0, -ENOENT (a field the marker does not have), -EINVAL (a field
 * whose type cannot be compared so: a string field with a number, a number
 * with a string).  @err (may be NULL) names the field and lists the
 * marker's fields.  Async-signal-safe when @err is NULL.
 */
int marker__filter_bind(const struct marker__filter *f, const char *name, const char *format,
			const char *types, struct marker__filter_prog *prog,
			struct marker__filter_err *err);

/*
 * marker__filter_eval - 1 if the event passes, 0 if not.  @val and @slen
 * hold the event's arguments as the tracer reads them (ring.c): integers
 * in their low bits (8, 16 and 32-bit ones as the promoted int, 32 bits),
 * a float's bits in the low 32, a double's 64 bits, a string's pointer in
 * @val and its length in @slen.
 */
int marker__filter_eval(const struct marker__filter_prog *p, const uint64_t *val,
			const unsigned *slen);

/* Does @s (@len bytes) match @pat (@plen bytes; '*' any run, "\*" a star)? */
int marker__filter_strmatch(const char *pat, size_t plen, const char *s, size_t len);

#endif /* MARKERS_FILTER_H */
