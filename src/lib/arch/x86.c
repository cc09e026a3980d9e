/*
 * arch/x86.c - the instructions of immediate and jump sites, and the
 * SIGTRAP handler that emulates them while they are being rewritten
 * (x86-64 and i386).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "x86.h"

struct x86_table *marker__x86_table;
unsigned long marker__x86_users;

static const uint8_t nop5[5] = {0x0f, 0x1f, 0x44, 0x00, 0x00};

int marker__x86_decode(const struct marker__site *s, struct x86_form *f)
{
	const uint8_t *p = s->addr;

	memset(f, 0, sizeof(*f));
	f->kind = s->desc->kind;
	if (f->kind == MARKER_KIND_JUMP) {
		intptr_t rel = (intptr_t)s->target - ((intptr_t)s->addr + 5);
		int32_t rel32 = (int32_t)rel;

		if (!s->target || rel32 != rel)
			return -EILSEQ;
		f->len = 5;
		f->taken[0] = 0xe9;
		memcpy(&f->taken[1], &rel32, 4);
		memcpy(f->off, nop5, 5);
	} else if (f->kind == MARKER_KIND_IMMEDIATE) {
		unsigned rex = 0;

#ifdef __x86_64__
		rex = p[0] == 0x41; /* REX.B: r8d-r15d */
#endif
		if (p[rex] < 0xb8 || p[rex] > 0xbf)
			return -EILSEQ;
		f->len = 5 + rex;
		f->reg = (p[rex] - 0xb8) + 8 * rex;
		memcpy(f->taken, p, 1 + rex);
		memcpy(f->off, p, 1 + rex);
		f->taken[1 + rex] = 1; /* imm32 = 1: only its low byte differs */
	} else {
		return -EILSEQ;
	}
	if (!memcmp(p, f->taken, f->len))
		return 1;
	if (!memcmp(p, f->off, f->len))
		return 0;
	return -EILSEQ;
}

struct x86_site *marker__x86_lookup(struct x86_table *t, uintptr_t addr)
{
	size_t lo = 0, hi = t ? t->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].addr == addr)
			return &t->v[mid];
		if (t->v[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- ucontext ---- */

#ifdef __x86_64__
#define PC_REG REG_RIP
static const int gregs_of[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
				 REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
				 REG_R12, REG_R13, REG_R14, REG_R15};
#else
#define PC_REG REG_EIP
static const int gregs_of[8] = {REG_EAX, REG_ECX, REG_EDX, REG_EBX,
				REG_ESP, REG_EBP, REG_ESI, REG_EDI};
#endif

static uintptr_t get_pc(ucontext_t *uc)
{
	return (uintptr_t)uc->uc_mcontext.gregs[PC_REG];
}

static void set_pc(ucontext_t *uc, uintptr_t pc)
{
	uc->uc_mcontext.gregs[PC_REG] = (greg_t)pc;
}

/*
 * Run the site's instruction in its @want form on behalf of the thread:
 * movl $want,%reg (which zero-extends on x86-64) and fall through, or jmp /
 * nop.  Neither form touches the flags or memory.
 */
static void emulate(const struct x86_site *e, ucontext_t *uc, int want)
{
	if (e->kind == MARKER_KIND_IMMEDIATE) {
		uc->uc_mcontext.gregs[gregs_of[e->reg]] = (greg_t)(want ? 1 : 0);
		set_pc(uc, e->addr + e->len);
	} else {
		set_pc(uc, want ? e->target : e->addr + e->len);
	}
}

/* ---- the handler ---- */

/*
 * The handlers our own displaced, oldest first: [0] is what was installed
 * before the library, [1..] the program's handlers that replaced ours later
 * (each time, we put ours back in front and keep theirs).  Entries are
 * appended under marker__lock and never change once published through
 * ndisplaced, so a handler reads them without a lock.
 */
#define NDISPLACED 16
static struct sigaction displaced[NDISPLACED];
static unsigned ndisplaced;

/*
 * A handler of the program that replaced ours usually chains to the one it
 * replaced, which is ours: we call it, it calls us.  Each thread remembers
 * the trap it is chaining (@si) and the frame of the handler that chains
 * (@frame); a call of our handler with the same siginfo from deeper in the
 * stack is that chain coming back, and goes one handler further back
 * (@level), down to what was there before the library.  A new signal
 * delivered by the kernel has its siginfo at a fixed distance above the
 * handler's frame, so even at the same address as a chain a program left
 * with siglongjmp() it is never deeper than that chain's frame.
 */
struct chaining {
	const void *si;
	const void *frame;
	unsigned level;
};
static __thread struct chaining chaining __attribute__((tls_model("initial-exec")));

/* The default action of SIGTRAP: end the process (with a core dump). */
static void default_action(int sig)
{
	/*
	 * Restore it and send the signal again: it is blocked in this
	 * handler, so it arrives (and ends the process as it would have)
	 * when the handlers return.
	 */
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	raise(sig);
}

/*
 * Hand a trap that is not ours to the displaced handler @level steps back
 * from the newest, as if we were not here; past the oldest, the default.
 */
static void chain(int sig, siginfo_t *si, void *uc, unsigned level, const void *frame)
{
	unsigned n = __atomic_load_n(&ndisplaced, __ATOMIC_ACQUIRE);
	struct chaining saved = chaining;
	const struct sigaction *p;

	if (level >= n) {
		default_action(sig);
		return;
	}
	p = &displaced[n - 1 - level];
	if (p->sa_flags & SA_SIGINFO) {
		chaining = (struct chaining){si, frame, level};
		p->sa_sigaction(sig, si, uc);
		chaining = saved;
	} else if (p->sa_handler == SIG_IGN) {
		/* nothing */
	} else if (p->sa_handler == SIG_DFL) {
		default_action(sig);
	} else {
		chaining = (struct chaining){si, frame, level};
		p->sa_handler(sig);
		chaining = saved;
	}
}

static void trap_handler(int sig, siginfo_t *si, void *ucv)
{
	const void *frame = __builtin_frame_address(0);
	ucontext_t *uc = ucv;

	/* Called back by a handler we chained to: further back, never a site. */
	if (chaining.si == si && (uintptr_t)frame < (uintptr_t)chaining.frame) {
		chain(sig, si, ucv, chaining.level + 1, frame);
		return;
	}
	/* An int3 is SI_KERNEL; raise(), kill() and friends are not ours. */
	if (si->si_code == SI_KERNEL) {
		uintptr_t pc = get_pc(uc) - 1; /* the trap reports the byte after int3 */
		struct x86_table *t;
		struct x86_site *e;

		/*
		 * Announce ourselves before loading the table: the patcher
		 * frees an old table only after seeing no users once after
		 * publishing the new one (both sequentially consistent).
		 */
		__atomic_fetch_add(&marker__x86_users, 1, __ATOMIC_SEQ_CST);
		t = __atomic_load_n(&marker__x86_table, __ATOMIC_SEQ_CST);
		e = marker__x86_lookup(t, pc);
		if (e) {
			/*
			 * Still an int3: the site is being rewritten; run the
			 * form being written.  Gone: a stale trap, taken before
			 * the patch completed; run the instruction now there.
			 */
			if (*(volatile uint8_t *)pc == X86_INT3)
				emulate(e, uc, __atomic_load_n(&e->want, __ATOMIC_ACQUIRE));
			else
				set_pc(uc, pc);
		}
		__atomic_fetch_sub(&marker__x86_users, 1, __ATOMIC_SEQ_CST);
		if (e)
			return;
	}
	chain(sig, si, ucv, 0, frame);
}

int marker__x86_handler_ensure_locked(void)
{
	unsigned n = ndisplaced;
	struct sigaction sa, cur;

	if (sigaction(SIGTRAP, NULL, &cur) < 0)
		return -errno;
	if (n && (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == trap_handler)
		return 0;
	/*
	 * First time, or the program installed its own handler since: keep
	 * theirs as the one we chain to first, then put ours back.  Every
	 * signal is blocked while ours runs, so that no other handler can
	 * reach a site's int3 inside it.  The same handler installed again
	 * is kept once.  A program that has replaced ours NDISPLACED times
	 * gets no more patching (-ENOSPC: sites work from the flag).
	 */
	if (!n || memcmp(&cur, &displaced[n - 1], sizeof(cur))) {
		if (n == NDISPLACED)
			return -ENOSPC;
		displaced[n] = cur;
		__atomic_store_n(&ndisplaced, n + 1, __ATOMIC_RELEASE);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = trap_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL) < 0)
		return -errno;
	return 0;
}
