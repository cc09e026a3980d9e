/*
 * arch/x86_patch.c - rewriting immediate and jump sites in a running,
 * multi-threaded process: the int3 protocol on whole batches.
 *
 * A batch of sites changes in three steps, the first two followed by
 * membarrier(SYNC_CORE), so that every thread's core has discarded any
 * stale view of the text before the next step:
 *   1. int3 over the first byte of every site;
 *   2. the remaining bytes of the new form;
 *   3. the new first byte (no barrier: see the argument at step 3).
 * A thread that reaches a site during the batch traps; the handler (x86.c)
 * runs the new form for it.  A thread whose trap is handled after step 3
 * finds no int3 and simply runs the site again.  Text is written through
 * /proc/self/mem, so it is never writable; nearby writes of one step are
 * coalesced into one pwrite().
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kept_fd.h"
#include "patch.h"
#include "thread.h"
#include "warn.h"
#include "x86.h"

#define GAP_MAX 1024	      /* coalesce writes this close (bytes of the same page) */
#define RUN_MAX (64 * 1024)   /* and at most this long */

/* Kept open across batches, each checked before use (kept_fd.h says why). */
static struct marker__kept_fd mem = MARKER__KEPT_NONE;	 /* /proc/self/mem */
static pid_t mem_pid;					 /* the process that opened the three (fork!) */
static struct marker__kept_fd task = MARKER__KEPT_NONE;	 /* /proc/self/task: read at every batch */
static struct marker__kept_fd status = MARKER__KEPT_NONE; /* /proc/self/task/status_tid/status */
static pid_t status_tid;

/* Opens @path into @k; returns its descriptor or -1. */
static int kept_open(struct marker__kept_fd *k, const char *path, int flags)
{
	return marker__kept_set(k, open(path, flags | O_CLOEXEC));
}

static int barrier_ok;	       /* registered for SYNC_CORE in this mm */

static const char *R_BLOCKED = "a thread blocks SIGTRAP";
static const char *R_TRACED = "a debugger is attached (an int3 would stop the program)";
static const char *R_HANDLER = "cannot install the SIGTRAP handler";
static const char *R_BARRIER = "membarrier SYNC_CORE is unavailable";
static const char *R_MEM = "cannot open /proc/self/mem to write text";
static const char *R_WRITE = "writing text failed";
static const char *R_HALFWAY = "writing text failed half-way: the trap handler runs this site";
static const char *R_BYTES = "unexpected instruction bytes at the site";
static const char *R_ADDR = "site address outside its object's code";
static const char *R_DUP = "another site record has this address";
static const char *R_NOMEM = "out of memory";
static const char *R_STARTING = "not rewritten yet: put off while the program starts";

static int sys_membarrier(int cmd, unsigned flags)
{
	return (int)syscall(__NR_membarrier, cmd, flags, 0);
}

/* Every thread of this process executes a core-serializing instruction. */
static int sync_core(void)
{
	if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0) == 0)
		return 0;
	/* A child of fork() may need to register its new mm again. */
	if (errno == EPERM &&
	    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0) == 0 &&
	    sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0) == 0)
		return 0;
	return -errno;
}

/*
 * ThreadSanitizer's background thread blocks every signal and runs no
 * instrumented code; in a TSan build only, such a thread does not count.
 */
static int sanitizer_thread(unsigned long long blocked)
{
#if defined(__SANITIZE_THREAD__)
	unsigned long long std = 0x7fffffffull; /* signals 1-31 */

	return ((blocked | (1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1))) & std) == std;
#else
	(void)blocked;
	return 0;
#endif
}

/* What /proc/self/task/@tid/status says of one thread: NULL, R_BLOCKED or R_TRACED. */
static const char *thread_state(pid_t tid)
{
	char path[64], buf[2048], *p;
	unsigned long long mask;
	const char *why = NULL;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL; /* the thread exited */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	p = strstr(buf, "\nTracerPid:");
	if (p && atoi(p + 11) != 0)
		why = R_TRACED;
	p = strstr(buf, "\nSigBlk:");
	if (p && sscanf(p + 8, "%llx", &mask) == 1 && (mask & (1ull << (SIGTRAP - 1))) &&
	    !sanitizer_thread(mask))
		why = R_BLOCKED;
	return why;
}

static int cmp_tid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The threads of the last full look, and whether all were fit.  Reading
 * every thread's status costs about 10 us a thread, at every switch; but
 * what we look for cannot change in a thread behind our back: its mask
 * only through a raw system call (x86_sigmask.c takes the library calls),
 * a tracer only by attaching, which stops every thread, ours too
 * (self_traced() at every batch).  So while the set of threads is the same
 * and all were fit, the look is done.  New threads are looked at (they may
 * still be in glibc's start-up, every signal blocked, or have a mask set
 * by a raw call), and so is everyone while anyone was unfit.
 */
static pid_t *known;
static size_t nknown;
static int known_fit;
static pid_t known_self;	/* the patching thread of that look (left out of it) */

/*
 * Is the set of threads still the one of the last look?  Listing
 * /proc/self/task costs about 0.15 us a thread (1.5 ms for 10,000
 * switches in a process of 100 threads); this asks less.  The kernel
 * lists a process's threads in the order it created them: a new thread
 * joins the end of the list, a thread gone leaves it.  So if the entry at
 * the place of the last one of the look is still that thread, and none
 * follows it, no thread was created since; a thread gone moves the
 * entries after it, which makes a full look (a little time lost, no
 * thread missed).  Two system calls, whatever the number of threads or
 * the pids other processes take; a thread that was being created during
 * the look joins the list after its last entry, and is seen here.
 */
static off_t known_tail_off = -1; /* where the last entry of the look is in the directory */
static pid_t known_tail;	  /* and its thread */

static int same_threads(pid_t self)
{
	union {
		struct dirent64 de;
		char buf[512];
	} u;
	long got;

	if (!known_fit || self != known_self || known_tail_off < 0)
		return 0;
	if (lseek(task.fd, known_tail_off, SEEK_SET) != known_tail_off)
		return 0;
	got = syscall(SYS_getdents64, task.fd, u.buf, sizeof(u.buf));
	/* Exactly one entry, the last thread of the look. */
	return got > 0 && u.de.d_reclen == got && (pid_t)atoi(u.de.d_name) == known_tail;
}

static int known_thread(pid_t tid)
{
	return nknown && bsearch(&tid, known, nknown, sizeof(*known), cmp_tid);
}

/*
 * What the other threads would do with an int3 of ours: NULL (run our
 * handler), R_BLOCKED (SIGTRAP is blocked: the kernel kills the process),
 * or R_TRACED: a debugger (or another ptrace tracer) is attached to the
 * thread; it takes the SIGTRAP, stops the program and by default does not
 * pass the signal on, so the thread would resume inside the instruction.
 * This thread is left out: it runs no site while it patches.
 */
static const char *other_threads(pid_t self)
{
	pid_t *now = NULL, tail = 0;
	size_t n = 0, cap = 0;
	const char *why = NULL;
	char buf[4096];
	off_t off = 0, tail_off = -1;
	long got;
	int fit_before;

	if (!marker__kept_ours(&task)) {
		known_fit = 0; /* a list read through another descriptor: read it whole */
		if (kept_open(&task, "/proc/self/task", O_RDONLY | O_DIRECTORY) < 0)
			return NULL; /* no /proc: the write would fail anyway */
	}
	if (same_threads(self))
		return NULL;
	if (lseek(task.fd, 0, SEEK_SET) < 0)
		return NULL;
	while ((got = syscall(SYS_getdents64, task.fd, buf, sizeof(buf))) > 0) {
		for (long i = 0; i < got;) {
			struct dirent64 *de = (struct dirent64 *)(buf + i);
			pid_t tid = (pid_t)atoi(de->d_name);

			i += de->d_reclen;
			/* An entry's own offset is the one its predecessor points to. */
			if (de->d_name[0] != '.') {
				tail = tid;
				tail_off = off;
			}
			off = de->d_off;
			if (de->d_name[0] == '.' || tid == self)
				continue;
			if (n == cap) {
				pid_t *p = realloc(now, (cap = cap ? 2 * cap : 64) * sizeof(*now));

				if (!p) {
					free(now);
					return R_NOMEM;
				}
				now = p;
			}
			now[n++] = tid;
		}
	}
	if (n) /* now is NULL when we are alone (a fork child): qsort()'s pointer must not be */
		qsort(now, n, sizeof(*now), cmp_tid);
	/* Known threads, all fit at the last look, are still fit: the new ones only. */
	fit_before = known_fit && self == known_self;
	for (size_t i = 0; i < n && !why; i++)
		if (!fit_before || !known_thread(now[i]))
			why = thread_state(now[i]);
	free(known);
	known = now;
	nknown = n;
	known_self = self;
	known_fit = !why;
	known_tail = tail;
	known_tail_off = got == 0 ? tail_off : -1; /* a listing cut short: no mark */
	return why;
}

/*
 * Is this thread traced?  (Other threads: see other_threads().)
 *
 * TracerPid is only in the status file, whose text the kernel makes anew
 * at each read: 2.5 us, or 4 and more when the switch comes after a while
 * in user space, the largest system call of a switch.  A missed tracer
 * costs the program: gdb takes the SIGTRAP of our int3, stops, and by
 * default resumes the thread after the int3 byte, inside the instruction.
 * But a tracer cannot attach unseen by this thread: PTRACE_ATTACH sends
 * it SIGSTOP, PTRACE_SEIZE is followed by PTRACE_INTERRUPT (gdb, lldb,
 * strace, criu), and the stop that either makes is a voluntary context
 * switch of the thread, counted in its rusage.  So when the count is the
 * one read just before the last status read that found no tracer, this
 * thread has not stopped since, and the read is spared.  A thread that
 * slept meanwhile (a listener waiting for a command) reads again.  Only a
 * tracer that seizes and never interrupts goes unseen until the thread
 * sleeps; it sees the SIGTRAP and decides (strace passes it on).
 */
static long untraced_nvcsw = -1; /* the count before the last read without a tracer */

static int self_traced(pid_t self)
{
	char buf[2048], *p;
	struct rusage ru;
	long nvcsw = -1;
	ssize_t n;
	int traced;

	if (getrusage(RUSAGE_THREAD, &ru) == 0)
		nvcsw = ru.ru_nvcsw;
	if (status.fd >= 0 && status_tid != self)
		marker__kept_close(&status);
	if (status.fd >= 0 && nvcsw >= 0 && nvcsw == untraced_nvcsw)
		return 0;
	untraced_nvcsw = -1;
	if (!marker__kept_ours(&status)) {
		snprintf(buf, sizeof(buf), "/proc/self/task/%d/status", (int)self);
		if (kept_open(&status, buf, O_RDONLY) < 0)
			return 0;
		status_tid = self;
	}
	/* procfs makes the text anew at each read from offset 0. */
	n = pread(status.fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strstr(buf, "\nTracerPid:");
	traced = p && atoi(p + 11) != 0;
	if (!traced)
		untraced_nvcsw = nvcsw;
	return traced;
}

/*
 * This process's id without a system call at each switch: a page that
 * the kernel gives a child zeroed (MADV_WIPEONFORK, Linux 4.14), however
 * the child was made (fork(), _Fork(), a raw clone: not all of them run
 * atfork handlers), holds it.  Where the page cannot be had, getpid().
 */
static pid_t *pid_page;
static int pid_page_failed;

static pid_t current_pid(void)
{
	pid_t pid;

	if (!pid_page && !pid_page_failed) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

#ifdef MADV_WIPEONFORK
		if (p != MAP_FAILED && madvise(p, 4096, MADV_WIPEONFORK) == 0)
			pid_page = p;
		else
#endif
		{
			if (p != MAP_FAILED)
				munmap(p, 4096);
			pid_page_failed = 1;
		}
	}
	if (pid_page && *pid_page)
		return *pid_page;
	pid = getpid();
	if (pid_page)
		*pid_page = pid;
	return pid;
}

/*
 * The calling thread's id, asked of the kernel once per thread and
 * process (a system call less per switch; the forking thread's id
 * changes in the child, whose pid differs).
 */
static __thread pid_t tid_cached, tid_pid;

static pid_t this_tid(pid_t pid)
{
	if (tid_pid != pid) {
		tid_cached = (pid_t)syscall(SYS_gettid);
		tid_pid = pid;
	}
	return tid_cached;
}

/*
 * Everything a batch needs, checked before each one.  Returns NULL, or why
 * this batch cannot patch.
 */
static const char *ready_locked(void)
{
	pid_t pid = current_pid(), self = this_tid(pid);
	const char *why;

	if (mem.fd >= 0 && mem_pid != pid) {
		/* Inherited from our parent: they are the parent's memory and threads. */
		marker__kept_close(&mem);
		marker__kept_close(&task);
		marker__kept_close(&status);
		known_fit = 0; /* the parent's threads: look at ours */
	}
	if (!marker__kept_ours(&mem)) {
		if (kept_open(&mem, "/proc/self/mem", O_RDWR) < 0)
			return R_MEM;
		mem_pid = pid;
	}
	if (!barrier_ok) {
		if (sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0) < 0)
			return R_BARRIER;
		barrier_ok = 1;
	}
	if (marker__x86_handler_ensure_locked() < 0)
		return R_HANDLER;
	/*
	 * Many blocks are short: a thread being created runs with every
	 * signal blocked until it sets its own mask (which may take a while
	 * on a loaded machine), a thread registering for RCU (once, briefly),
	 * our own handler while it runs.  Our own new threads say when they
	 * run; the others: look again for up to ~100 ms.
	 */
	marker__thread_wait_started();
	if (self_traced(self))
		return R_TRACED;
	for (useconds_t wait = 50, total = 0; (why = other_threads(self)); wait *= 2) {
		if (why == R_TRACED || total > 100000)
			return why;
		if (wait > 10000)
			wait = 10000;
		usleep(wait);
		total += wait;
	}
	return NULL;
}

/* ---- coalesced writes ---- */

/*
 * Memory of the batches, kept from one to the next (marker__lock held):
 * fresh buffers of a 10,000-site batch (about 0.7 MB) came from the
 * kernel as new zeroed pages every time, a tenth of the switch.
 */
struct scratch {
	void *p;
	size_t size;
};

static void *scratch_get(struct scratch *s, size_t size)
{
	if (size > s->size) {
		void *p = malloc(size);

		if (!p)
			return NULL;
		free(s->p);
		s->p = p;
		s->size = size;
	}
	return s->p;
}

static struct scratch edits_mem, sort_mem;
static uint8_t run_buf[RUN_MAX + X86_MAXLEN]; /* one coalesced write */

struct edit {
	uintptr_t addr;
	const uint8_t *bytes;
	size_t len;
	struct marker__site *site;
};

static int write_at(uintptr_t addr, const void *buf, size_t len)
{
	ssize_t n = pwrite(mem.fd, buf, len, (off_t)addr);

	return n == (ssize_t)len ? 0 : -1;
}

/*
 * Apply @n edits, sorted by address.  Edits of the same object closer than
 * GAP_MAX become one write of the text between them as it is now (only we
 * change it: marker__lock) with the edits on top.  A site whose edit could
 * not be written gets @fail as its reason.
 */
static int write_edits(struct edit *ed, size_t n, uint8_t *buf, const char *fail)
{
	int errs = 0;

	for (size_t i = 0, j; i < n; i = j) {
		uintptr_t start = ed[i].addr, end = ed[i].addr + ed[i].len;

		for (j = i + 1; j < n; j++) {
			uintptr_t e = ed[j].addr + ed[j].len;

			if (ed[j].site->obj != ed[i].site->obj || ed[j].addr > end + GAP_MAX ||
			    e - start > RUN_MAX)
				break;
			if (e > end)
				end = e;
		}
		memcpy(buf, (const void *)start, end - start);
		for (size_t k = i; k < j; k++)
			memcpy(buf + (ed[k].addr - start), ed[k].bytes, ed[k].len);
		if (write_at(start, buf, end - start) == 0)
			continue;
		/* One by one, so that one bad page spoils only its own sites. */
		for (size_t k = i; k < j; k++) {
			if (write_at(ed[k].addr, ed[k].bytes, ed[k].len) == 0)
				continue;
			ed[k].site->mode = MARKER_MODE_FALLBACK;
			ed[k].site->reason = fail;
			errs++;
		}
	}
	return errs;
}

static int cmp_site(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)(*(struct marker__site *const *)a)->addr;
	uintptr_t y = (uintptr_t)(*(struct marker__site *const *)b)->addr;

	return x < y ? -1 : x > y;
}

/*
 * Sort @v by address: an LSD radix sort on the bytes in which the
 * addresses differ (two or three for the sites of a few objects), linear
 * where qsort's comparisons were a fifth of a 10,000-site switch.
 */
struct keyed {
	uintptr_t key;
	struct marker__site *site;
};

static void sort_sites(struct marker__site **v, size_t n)
{
	struct keyed *a = scratch_get(&sort_mem, 2 * n * sizeof(*a)), *b, *t;
	uintptr_t diff = 0;

	if (!a) {
		qsort(v, n, sizeof(*v), cmp_site);
		return;
	}
	b = a + n;
	for (size_t i = 0; i < n; i++) {
		a[i] = (struct keyed){(uintptr_t)v[i]->addr, v[i]};
		diff |= a[i].key ^ a[0].key;
	}
	for (unsigned shift = 0; shift < 8 * sizeof(uintptr_t); shift += 8) {
		size_t count[257] = {0};

		if (!((diff >> shift) & 0xff))
			continue;
		for (size_t i = 0; i < n; i++)
			count[((a[i].key >> shift) & 0xff) + 1]++;
		for (int d = 0; d < 256; d++)
			count[d + 1] += count[d];
		for (size_t i = 0; i < n; i++)
			b[count[(a[i].key >> shift) & 0xff]++] = a[i];
		t = a, a = b, b = t;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = a[i].site;
}

/*
 * The entry of @addr in @t, searching from *@cur on (galloping): for
 * addresses in increasing order, a walk of the table rather than a binary
 * search per site.  *@cur moves to where @addr is or would be.
 */
static struct x86_site *lookup_from(struct x86_table *t, uintptr_t addr, size_t *cur)
{
	size_t n = t ? t->n : 0, lo = *cur, hi = lo, step = 1;

	while (hi < n && t->v[hi].addr < addr) {
		lo = hi + 1;
		hi += step;
		step *= 2;
	}
	if (hi > n)
		hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	*cur = lo;
	return lo < n && t->v[lo].addr == addr ? &t->v[lo] : NULL;
}

/* Never adopted (or not writable): taken, as in the file, and working from the flag. */
static void fallback_all(struct marker__site **v, size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		v[i]->mode = MARKER_MODE_FALLBACK;
		v[i]->reason = why;
	}
	if (n)
		marker__warn("%zu site(s) of marker %s...: %s; they work from the memory flag",
			     n, v[0]->desc->name, why);
}

/*
 * Sites whose switch a batch had to put off (a thread blocked SIGTRAP for
 * longer than we wait): their code may not match their state.  They stay
 * PATCHED, so that the registry hands them to every later switch of their
 * marker, with @why as their reason until then; and every later batch of
 * any marker that can patch takes them along, and so does
 * marker__patch_retry() (the control thread calls it while any wait).
 * x86_form::queue says which sites are on the list.
 */
static struct marker__site **pending;
static size_t npending, cap_pending;

/*
 * While switches are put off, a thread of ours tries them again every
 * RETRY_MS, and ends when none is left: the reason may go away without any
 * call of the program (the thread that blocked SIGTRAP exits).
 */
#define RETRY_MS 100
static int retrier_running;

static void *retrier(void *arg)
{
	struct timespec ts = {0, RETRY_MS * 1000000L};

	(void)arg;
	for (;;) {
		nanosleep(&ts, NULL);
		marker__lock_acquire();
		if (npending)
			marker__patch_apply_locked(NULL, 0);
		if (!npending) {
			retrier_running = 0;
			marker__lock_release();
			return NULL;
		}
		marker__lock_release();
	}
}

static void retrier_start_locked(void)
{
	pthread_attr_t attr;
	pthread_t th;

	if (retrier_running || !npending)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	/* If it cannot start, the next switch still tries. */
	retrier_running = marker__thread_start(&th, &attr, retrier, NULL) == 0;
	pthread_attr_destroy(&attr);
}

void marker__patch_after_fork_child(void)
{
	retrier_running = 0; /* the parent's; the child's next switch starts its own */
}

static void defer_all(struct marker__site **v, size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		struct x86_form *f = (void *)v[i]->arch;

		v[i]->reason = why;
		if (f->queue != X86_Q_NONE)
			continue;
		if (npending == cap_pending) {
			size_t cap = cap_pending ? 2 * cap_pending : 64;
			void *p = realloc(pending, cap * sizeof(*pending));

			if (!p)
				continue; /* its own marker's next switch still retries it */
			pending = p;
			cap_pending = cap;
		}
		f->queue = X86_Q_PENDING;
		pending[npending++] = v[i];
	}
	if (n)
		marker__warn("%zu site(s) of marker %s...: %s; not switched yet", n,
			     v[0]->desc->name, why);
	retrier_start_locked();
}

static const uint8_t int3 = X86_INT3;

/*
 * The protocol for @v[0..n), sites in PATCHED mode whose code must change
 * to the form of their marker's state; ready_locked() said yes.  @v is
 * sorted here.
 */
static void patch_batch_locked(struct marker__site **v, size_t n)
{
	struct x86_table *t = marker__x86_table;
	uint8_t *buf = run_buf;
	struct edit *ed;
	size_t m = 0;

	if (!n)
		return;
	ed = scratch_get(&edits_mem, n * sizeof(*ed));
	if (!ed) {
		defer_all(v, n, R_NOMEM);
		return;
	}
	sort_sites(v, n);

	/* Tell the handler which form each site is getting, before any int3. */
	for (size_t i = 0, cur = 0; i < n; i++) {
		struct x86_site *e = lookup_from(t, (uintptr_t)v[i]->addr, &cur);

		if (e)
			__atomic_store_n(&e->want, v[i]->desc->state ? 1 : 0, __ATOMIC_RELEASE);
	}

	/* Step 1 of 3: int3 over every site's first byte, then serialize all cores. */
	for (size_t i = 0; i < n; i++)
		ed[i] = (struct edit){(uintptr_t)v[i]->addr, &int3, 1, v[i]};
	write_edits(ed, n, buf, R_WRITE);
	/* Sites whose int3 could not be written keep their old code: drop them. */
	for (size_t i = 0; i < n; i++)
		if (v[i]->mode == MARKER_MODE_PATCHED)
			v[m++] = v[i];
	n = m;
	sync_core();

	/* Step 2 of 3: the rest of each new instruction, behind its int3. */
	for (size_t i = 0; i < n; i++) {
		const struct x86_form *f = (const void *)v[i]->arch;
		const uint8_t *nw = v[i]->desc->state ? f->taken : f->off;

		ed[i] = (struct edit){(uintptr_t)v[i]->addr + 1, nw + 1, f->len - 1u, v[i]};
	}
	write_edits(ed, n, buf, R_HALFWAY);
	sync_core();

	/* Step 3 of 3: the first bytes back; then no thread can see a mix of forms. */
	for (size_t i = 0; i < n; i++) {
		const struct x86_form *f = (const void *)v[i]->arch;
		const uint8_t *nw = v[i]->desc->state ? f->taken : f->off;

		ed[i] = (struct edit){(uintptr_t)v[i]->addr, nw, 1, v[i]};
	}
	write_edits(ed, n, buf, R_HALFWAY);
	/*
	 * No third barrier (the 2007 protocol has one).  Why none is needed:
	 * after barrier 2 every core has serialized since the int3 and the new
	 * tail were written, so the old first byte is in no core's view and a
	 * core can fetch only (int3, new tail) or, after this write, (new
	 * first byte, new tail): the new instruction.  Fetching the int3 traps;
	 * the handler either still sees the int3 and emulates the new form
	 * (want is set before step 1), or sees the new byte and resumes at the
	 * site.  The return from the signal goes through the kernel, by an
	 * IRET (serializing) unless the restored rcx and r11 happen to equal
	 * rip and rflags; either way the trap discarded whatever the core had
	 * fetched before it, and x86 instruction caches are coherent with
	 * stores, so the site is fetched anew after the handler's own read of
	 * the new byte: the new instruction.  Either way no thread can run a
	 * mix of forms, and every thread runs the new form from barrier 1 on,
	 * so the caller may return now.  tests/unit/patch_toggle.c checks
	 * every call of two threads against the state of its time across
	 * 10^5 switches beside CPU hogs (the long tier).
	 *
	 * The seed's third barrier also waited for handlers still running for
	 * this batch: ours need nothing from the batch after it (the table
	 * entry outlives them, see table_publish_locked, and a later batch's
	 * want is right for them).
	 */

	/*
	 * A site that failed half-way may keep its int3 for good: from now on
	 * the handler sends every thread there to the out-of-line block, whose
	 * test of the flag is then the switch.
	 */
	for (size_t i = 0, cur = 0; i < n; i++) {
		struct x86_site *e;

		if (v[i]->mode == MARKER_MODE_PATCHED)
			continue;
		e = lookup_from(t, (uintptr_t)v[i]->addr, &cur);
		if (e)
			__atomic_store_n(&e->want, 1, __ATOMIC_RELEASE);
	}
	/*
	 * A thread may still be on its way into the handler for an int3 of
	 * this batch; it will find the int3 gone and run the site again.
	 * The table outlives it (see table_publish_locked).
	 */
}

/* ---- the handler's table ---- */

static int cmp_entry(const void *a, const void *b)
{
	uintptr_t x = ((const struct x86_site *)a)->addr, y = ((const struct x86_site *)b)->addr;

	return x < y ? -1 : x > y;
}

/* Publish @t, and free the old table once no handler can be reading it. */
static void table_publish_locked(struct x86_table *t)
{
	struct x86_table *old = marker__x86_table;

	__atomic_store_n(&marker__x86_table, t, __ATOMIC_SEQ_CST);
	/*
	 * A handler that loaded @old incremented users before loading it; one
	 * that increments after we read 0 here loads @t.  Handlers run a few
	 * dozen instructions and never block, so this wait is short.
	 */
	while (__atomic_load_n(&marker__x86_users, __ATOMIC_SEQ_CST))
		sched_yield();
	free(old);
}

/* ---- where an object's code is ---- */

struct find_obj {
	uintptr_t desc;
	uintptr_t lo[8], hi[8];
	int n, found;
};

static int find_segments(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find_obj *fo = arg;
	int mine = 0, n = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;

		if (ph->p_type != PT_LOAD)
			continue;
		if (fo->desc >= lo && fo->desc < hi)
			mine = 1;
		if ((ph->p_flags & PF_X) && n < 8) {
			fo->lo[n] = lo;
			fo->hi[n++] = hi;
		}
	}
	if (!mine)
		return 0;
	fo->n = n;
	fo->found = 1;
	return 1;
}

/* Is [addr, addr+len) inside the executable segments of the object that holds @desc? */
static int in_code(const struct find_obj *fo, const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	for (int i = 0; i < fo->n; i++)
		if (a >= fo->lo[i] && a + len <= fo->hi[i])
			return 1;
	return 0;
}

/* ---- the interface of patch.h ---- */

void marker__patch_init(void)
{
	/*
	 * Registering is cheap in a process of one thread, a grace period of
	 * the kernel's RCU (5-10 ms measured) in one of more; the first is
	 * usually the case before the library starts its own threads.  The
	 * registration is kept across fork().  Failing here is not final:
	 * ready_locked() tries again, and says why.
	 */
	if (!__atomic_load_n(&barrier_ok, __ATOMIC_RELAXED) &&
	    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0) == 0)
		__atomic_store_n(&barrier_ok, 1, __ATOMIC_RELAXED);
}

static void adopt_now_locked(struct marker__site **sites, size_t n)
{
	struct x86_table *old = marker__x86_table, *t;
	size_t nold = old ? old->n : 0, k = 0;
	struct marker__site **todo;
	struct find_obj fo = {0};
	const char *why;
	size_t ntodo = 0;

	/*
	 * Under a debugger, adopt nothing: a site left taken works from the
	 * flag, while one adopted could not be switched on again until the
	 * debugger leaves (a program started under gdb, then multi-threaded).
	 */
	why = ready_locked();
	if (why) {
		/* Never adopted: taken, as in the file, and working from the flag. */
		fallback_all(sites, n, why);
		return;
	}
	t = malloc(sizeof(*t) + (nold + n) * sizeof(t->v[0]));
	todo = malloc((n ? n : 1) * sizeof(*todo));
	if (!t || !todo) {
		free(t);
		free(todo);
		fallback_all(sites, n, R_NOMEM);
		return;
	}
	if (n) {
		fo.desc = (uintptr_t)sites[0]->desc;
		dl_iterate_phdr(find_segments, &fo);
	}
	for (size_t i = 0; i < n; i++) {
		struct marker__site *s = sites[i];
		struct x86_form *f = (void *)s->arch;
		int form;

		if (s->mode == MARKER_MODE_REFUSED)
			continue; /* state 0 forever: either form keeps it off */
		s->mode = MARKER_MODE_FALLBACK;
		if (!in_code(&fo, s->addr, X86_MAXLEN) ||
		    (s->target && !in_code(&fo, s->target, 1))) {
			s->reason = R_ADDR;
			continue;
		}
		form = marker__x86_decode(s, f);
		if (form < 0) {
			s->reason = R_BYTES;
			continue;
		}
		if (marker__x86_lookup(old, (uintptr_t)s->addr)) {
			s->reason = R_DUP;
			continue;
		}
		t->v[nold + k++] = (struct x86_site){(uintptr_t)s->addr, (uintptr_t)s->target,
						     f->len, f->kind, f->reg, (uint8_t)form};
		s->mode = MARKER_MODE_PATCHED;
		s->reason = NULL;
		if (form != !!s->desc->state)
			todo[ntodo++] = s;
	}
	if (nold)
		memcpy(t->v, old->v, nold * sizeof(t->v[0]));
	t->n = nold + k;
	qsort(t->v, t->n, sizeof(t->v[0]), cmp_entry);
	/* Two records of one address in this object: keep the first, refuse the rest. */
	for (size_t i = 1; i < t->n; i++)
		if (t->v[i].addr == t->v[i - 1].addr) {
			for (size_t j = 0; j < n; j++)
				if ((uintptr_t)sites[j]->addr == t->v[i].addr &&
				    sites[j]->mode == MARKER_MODE_PATCHED) {
					sites[j]->mode = MARKER_MODE_FALLBACK;
					sites[j]->reason = R_DUP;
				}
		}
	/* The table knows every site before any of them gets an int3. */
	table_publish_locked(t);
	{
		size_t m = 0;

		for (size_t i = 0; i < ntodo; i++)
			if (todo[i]->mode == MARKER_MODE_PATCHED)
				todo[m++] = todo[i];
		patch_batch_locked(todo, m);
	}
	free(todo);
}

/*
 * Objects whose adoption waits for a thread of ours to start (see patch.h):
 * each a copy of the sites handed to marker__patch_adopt_locked, in
 * FALLBACK mode (taken, working from the flag) until then.
 */
struct deferred {
	struct marker__site **v;
	size_t n;
	struct deferred *next;
};
static struct deferred *deferred;
static int adopt_later; /* marker__patch_defer_adoption() until the next adoption */

void marker__patch_defer_adoption(void)
{
	__atomic_store_n(&adopt_later, 1, __ATOMIC_RELAXED);
}

void marker__patch_adopt_locked(struct marker__site **sites, size_t n)
{
	struct deferred *d = NULL;

	/*
	 * A thread of ours that does not run yet blocks every signal (glibc
	 * starts threads so) and would make ready_locked() wait until it is
	 * scheduled: tens of microseconds to milliseconds, at the start-up of
	 * every program, as the library starts its threads just before the
	 * program's markers register.  That thread adopts them instead.
	 */
	if (n && (__atomic_load_n(&adopt_later, __ATOMIC_RELAXED) || marker__thread_starting()) &&
	    (d = malloc(sizeof(*d))))
		d->v = malloc(n * sizeof(*d->v));
	if (!d || !d->v) {
		free(d);
		adopt_now_locked(sites, n);
		return;
	}
	memcpy(d->v, sites, n * sizeof(*d->v));
	d->n = n;
	d->next = deferred;
	deferred = d;
	for (size_t i = 0; i < n; i++)
		if (sites[i]->mode != MARKER_MODE_REFUSED) {
			sites[i]->mode = MARKER_MODE_FALLBACK;
			sites[i]->reason = R_STARTING;
		}
}

void marker__patch_adopt_deferred_locked(void)
{
	struct deferred *d = deferred, *rev = NULL, *next;

	marker__assert_locked();
	deferred = NULL;
	__atomic_store_n(&adopt_later, 0, __ATOMIC_RELAXED);
	/* In the order the objects loaded. */
	for (; d; d = next) {
		next = d->next;
		d->next = rev;
		rev = d;
	}
	for (d = rev; d; d = next) {
		next = d->next;
		adopt_now_locked(d->v, d->n);
		free(d->v);
		free(d);
	}
}

void marker__patch_adopt_deferred(void)
{
	marker__lock_acquire();
	marker__patch_adopt_deferred_locked();
	marker__lock_release();
}

/* The sites among @in whose code differs from their state, into @out; checks every byte. */
static size_t select_changes(struct marker__site **in, size_t n, struct marker__site **out)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		struct marker__site *s = in[i];
		struct x86_form *f = (void *)s->arch;
		const uint8_t *want;
		int st = !!s->desc->state;

		if (s->mode != MARKER_MODE_PATCHED)
			continue;
		s->reason = NULL; /* whatever put it off is over */
		want = st ? f->taken : f->off;
		if (!memcmp(s->addr, want, f->len))
			continue;
		if (memcmp(s->addr, st ? f->off : f->taken, f->len)) {
			s->mode = MARKER_MODE_FALLBACK;
			s->reason = R_BYTES;
			marker__warn("marker %s at %p: %s; left alone", s->desc->name, s->addr,
				     R_BYTES);
			continue;
		}
		out[m++] = s;
	}
	return m;
}

/* Is @s's marker on while its code is not the taken form?  (Adopted sites.) */
static int on_but_not_taken(const struct marker__site *s)
{
	const struct x86_form *f = (const void *)s->arch;

	return s->mode != MARKER_MODE_REFUSED && s->addr && f->len &&
	       __atomic_load_n(&s->desc->state, __ATOMIC_RELAXED) &&
	       memcmp(s->addr, f->taken, f->len);
}

static size_t count_not_on(struct marker__site **v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += on_but_not_taken(v[i]);
	return k;
}

/* The protocol for @sites and the pending ones; ready_locked() said yes. */
static void apply_ready_locked(struct marker__site **sites, size_t n)
{
	struct marker__site **v;
	size_t m;

	if (!npending) {
		patch_batch_locked(sites, select_changes(sites, n, sites));
		return;
	}
	/* The environment is ready again: take the sites put off along. */
	v = malloc((n + npending) * sizeof(*v));
	if (!v) {
		patch_batch_locked(sites, select_changes(sites, n, sites));
		return;
	}
	for (size_t i = 0; i < npending; i++)
		((struct x86_form *)(void *)pending[i]->arch)->queue = X86_Q_NONE;
	for (size_t i = 0; i < n; i++)
		((struct x86_form *)(void *)sites[i]->arch)->queue = X86_Q_BATCH;
	m = select_changes(sites, n, v);
	for (size_t i = 0; i < npending; i++) {
		struct x86_form *f = (void *)pending[i]->arch;

		if (f->queue != X86_Q_BATCH)
			m += select_changes(&pending[i], 1, v + m);
	}
	for (size_t i = 0; i < n; i++)
		((struct x86_form *)(void *)sites[i]->arch)->queue = X86_Q_NONE;
	npending = 0;
	patch_batch_locked(v, m);
	free(v);
}

size_t marker__patch_apply_locked(struct marker__site **sites, size_t n)
{
	struct marker__site **all;
	const char *why;
	size_t bad = 0;

	marker__assert_locked();
	all = n ? malloc(n * sizeof(*all)) : NULL;
	marker__patch_adopt_deferred_locked();
	/* The batch reorders and drops from @sites: what to count at the end. */
	if (all)
		memcpy(all, sites, n * sizeof(*all));
	why = ready_locked();
	if (why)
		defer_all(sites, select_changes(sites, n, sites), why);
	else
		apply_ready_locked(sites, n);
	if (all)
		bad = count_not_on(all, n);
	free(all);
	return bad;
}


static int cmp_addr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

void marker__patch_forget_locked(struct marker__site *sites, size_t n)
{
	struct x86_table *old = marker__x86_table, *t;
	uintptr_t *gone;
	size_t k = 0, ngone = 0;

	marker__assert_locked();
	/* Sites of this object whose adoption waits: forget them. */
	for (struct deferred **pp = &deferred, *d; (d = *pp);) {
		if (d->n && (uintptr_t)d->v[0] >= (uintptr_t)sites &&
		    (uintptr_t)d->v[0] < (uintptr_t)(sites + n)) {
			*pp = d->next;
			free(d->v);
			free(d);
		} else {
			pp = &d->next;
		}
	}
	/* Sites of this object left behind by a batch are gone with it. */
	for (size_t i = 0; i < npending; i++)
		if ((uintptr_t)pending[i] < (uintptr_t)sites ||
		    (uintptr_t)pending[i] >= (uintptr_t)(sites + n))
			pending[k++] = pending[i];
	npending = k;
	k = 0;
	if (!old)
		return;
	gone = malloc((n ? n : 1) * sizeof(*gone));
	t = malloc(sizeof(*t) + old->n * sizeof(t->v[0]));
	if (!gone || !t) {
		/*
		 * Keep the old table: entries of unmapped code are harmless
		 * (no int3 will ever be there); a later object mapped at the
		 * same addresses would find its sites refused as duplicates.
		 */
		free(gone);
		free(t);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (sites[i].addr)
			gone[ngone++] = (uintptr_t)sites[i].addr;
	qsort(gone, ngone, sizeof(*gone), cmp_addr);
	for (size_t i = 0; i < old->n; i++)
		if (!bsearch(&old->v[i].addr, gone, ngone, sizeof(*gone), cmp_addr))
			t->v[k++] = old->v[i];
	t->n = k;
	free(gone);
	if (k == old->n) {
		free(t);
		return;
	}
	table_publish_locked(t);
}
