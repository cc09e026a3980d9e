/*
 * arch/x86.h - what the x86 patcher (x86_patch.c) and the instruction and
 * trap code (x86.c) share (private).
 *
 * The SIGTRAP handler finds sites in a table: an immutable array sorted by
 * address, published with a release store and replaced (never changed in
 * place) under marker__lock when objects load or unload.  Only the @want
 * byte of an entry changes in place, also under marker__lock, before a
 * batch writes its first int3.
 *
 * Who may run at the same time:
 *   the handler (any thread, any time, async-signal context): reads the
 *     table through marker__x86_table, inside marker__x86_users++/--;
 *   the patcher (one thread, marker__lock held): publishes a new table,
 *     then waits until marker__x86_users is 0 before freeing the old one.
 */
#ifndef MARKERS_ARCH_X86_PRIV_H
#define MARKERS_ARCH_X86_PRIV_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"

#define X86_INT3 0xcc
#define X86_MAXLEN 6

enum {
	X86_Q_NONE,    /* on no list */
	X86_Q_PENDING, /* its switch was put off: on the pending list */
	X86_Q_BATCH,   /* in the batch being built (marker__patch_apply_locked) */
};

/* The two code forms of a site, decoded once at adoption; kept in marker__site::arch. */
struct x86_form {
	uint8_t len;  /* 5, or 6 for movl with a REX prefix */
	uint8_t kind; /* MARKER_KIND_IMMEDIATE or MARKER_KIND_JUMP */
	uint8_t reg;  /* immediate: the destination register, 0-15 in encoding order */
	uint8_t queue; /* X86_Q_*: where the patcher keeps it (x86_patch.c) */
	uint8_t taken[X86_MAXLEN]; /* movl $1,%reg / jmp rel32 */
	uint8_t off[X86_MAXLEN];   /* movl $0,%reg / 5-byte nop */
};
_Static_assert(sizeof(struct x86_form) <= sizeof(((struct marker__site *)0)->arch),
	       "x86_form fits in marker__site::arch");

/* One entry of the handler's table. */
struct x86_site {
	uintptr_t addr;
	uintptr_t target; /* jump: the jmp's destination */
	uint8_t len, kind, reg;
	uint8_t want; /* the form being written: 1 taken, 0 not taken (atomic access) */
};

struct x86_table {
	size_t n;
	struct x86_site v[];
};

extern struct x86_table *marker__x86_table;
extern unsigned long marker__x86_users;

/*
 * Decode the site at @s->addr (its bytes must be readable) into @f.
 * Returns 1 if the code is in the taken form, 0 if not taken, -EILSEQ if
 * it is neither (not what a trace_mark() site of this kind leaves).
 */
int marker__x86_decode(const struct marker__site *s, struct x86_form *f);

/* Binary search of @t for a site at @addr; NULL if none.  Async-signal-safe. */
struct x86_site *marker__x86_lookup(struct x86_table *t, uintptr_t addr);

/*
 * Make sure our SIGTRAP handler is the installed one: install it the first
 * time, and again (chaining to the newcomer) if the program replaced it.
 * Returns 0 or a negative errno.  marker__lock held.
 */
int marker__x86_handler_ensure_locked(void);

#endif /* MARKERS_ARCH_X86_PRIV_H */
