/*
 * files.c - the trace directory: mapping the buffers, metadata, .stats.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_dir.h"
#include "field_names.h"
#include "tracer_int.h"

static size_t buf_data_offset(unsigned nsubbufs)
{
	size_t n = sizeof(struct tr_buf_hdr) + nsubbufs * sizeof(struct tr_sb);

	return (n + 4095) & ~(size_t)4095;
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Remove a previous trace's files from the directory (we hold its lock). */
static void remove_old_trace(int dir_fd)
{
	DIR *d;
	struct dirent *de;
	int fd = dup(dir_fd);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		unsigned n;
		char c;

		if (!strcmp(de->d_name, "metadata") || !strcmp(de->d_name, ".stats") ||
		    sscanf(de->d_name, "cpu%u%c", &n, &c) == 1)
			unlinkat(dir_fd, de->d_name, 0);
	}
	closedir(d);
}

/*
 * Give a new buffer file its @size bytes, allocated: a page of a shared
 * mapping that the file system cannot back (a full tmpfs) would kill the
 * program with SIGBUS at its first store, so a start that cannot have the
 * space fails here instead.
 */
static int allocate(int fd, size_t size)
{
	int err = posix_fallocate(fd, 0, (off_t)size);

	if (err == EINVAL || err == EOPNOTSUPP) /* no such call here: sparse, as before */
		err = ftruncate(fd, (off_t)size) ? errno : 0;
	return -err;
}

static void *map_file(int fd, size_t size, int populate)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Open (create) the buffer file .buffers/@name.  A new one lives in
 * /dev/shm when it can, with a symbolic link from .buffers/: a tmpfs page
 * written through a shared mapping takes no write-protect fault for dirty
 * tracking, and is never written back to a disk (measured: 56 -> 34 ns per
 * event).  It survives the process all the same: recovery follows the link.
 * A new file has its @size bytes allocated.  Returns a descriptor or -errno.
 */
static int open_buffer_file(struct tr_session *s, const char *name, int create, size_t size)
{
	char shm[160], target[256];
	ssize_t n;
	int fd, err;

	if (!create) {
		/* Recovery: follow the link only to where the tracer puts buffers. */
		n = readlinkat(s->bufs_fd.fd, name, target, sizeof(target) - 1);
		if (n < 0)
			return errno == EINVAL ? marker__tr_open_own(s->bufs_fd.fd, name, O_RDWR) : -errno;
		target[n] = 0;
		if (!marker__tr_shm_target_ok(target, name))
			return -EINVAL;
		fd = open(target, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if ((err = marker__tr_check_own(fd)) < 0) {
			close(fd);
			return err;
		}
		return fd;
	}
	if (unlinkat(s->bufs_fd.fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	marker__tr_shm_name(s, name, shm, sizeof(shm));
	/* O_EXCL: a name planted in /dev/shm (random as it is) is never followed. */
	fd = open(shm, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/* /dev/shm too full for it: the trace directory's file system may have room. */
		if (!allocate(fd, size) && !symlinkat(shm, s->bufs_fd.fd, name))
			return fd;
		close(fd);
		unlink(shm);
	}
	fd = marker__tr_create(s->bufs_fd.fd, name, O_RDWR, 0600);
	if (fd >= 0 && (err = allocate(fd, size)) < 0) {
		close(fd);
		unlinkat(s->bufs_fd.fd, name, 0);
		return err;
	}
	return fd;
}

/* Unlink .buffers/@name, and the file it links to if the tracer made that link. */
static void remove_buffer_file(struct tr_session *s, const char *name)
{
	char target[256];
	ssize_t n;

	n = readlinkat(s->bufs_fd.fd, name, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = 0;
		if (marker__tr_shm_target_ok(target, name))
			unlink(target);
	}
	unlinkat(s->bufs_fd.fd, name, 0);
}

/*
 * Write @len bytes as DIR/@name, atomically (a temporary file, then
 * rename); @durable: on the disk before the rename, or not renamed at all
 * (a write-back error, writeback.c), so the name keeps its previous,
 * durable content.
 */
static int replace_file(struct tr_session *s, const char *name, const char *text, size_t len,
			int durable)
{
	char tmp[64];
	int fd, err = 0;

	if (!marker__kept_ours(&s->dir_fd))
		marker__tr_reclaim_fds(s); /* closed by the program: kept_fd.h */
	if (s->dir_fd.fd < 0)
		return -EBADF;
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name[0] == '.' ? name + 1 : name);
	fd = marker__tr_create(s->dir_fd.fd, tmp, O_WRONLY, 0644);
	if (fd < 0)
		return fd;
	while (len) {
		ssize_t w = write(fd, text, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		text += w;
		len -= (size_t)w;
	}
	if (!err && durable && fdatasync(fd) && errno != EINVAL)
		err = -errno;
	close(fd);
	if (!err && renameat(s->dir_fd.fd, tmp, s->dir_fd.fd, name))
		err = -errno;
	if (err)
		unlinkat(s->dir_fd.fd, tmp, 0);
	return err;
}

static int map_buffers(struct tr_session *s, int create);

/*
 * A start that failed once the directory was ours: no buffer file stays
 * (in /dev/shm, nobody else would remove it), and .stats says why, if it
 * can be written, for `markers record` to tell.
 */
static void start_failed(struct tr_session *s, int err)
{
	char text[128];
	const char *name = strerrorname_np(-err);
	int n;

	marker__tr_remove_buffers(s);
	n = snprintf(text, sizeof(text), "pid %lld\nstate failed\nerror %s\n",
		     (long long)getpid(), name ? name : "EIO");
	replace_file(s, ".stats", text, (size_t)n, 0);
}

int marker__tr_map(struct tr_session *s, int create)
{
	int err;

	if (create && (err = mkdir_p(s->dir)) < 0)
		return err;
	/* Ours, closed to others, never through a symbolic link (trace_dir.c). */
	err = marker__tr_open_dir(s->dir);
	if (err < 0 || marker__kept_set(&s->dir_fd, err) < 0)
		return err < 0 ? err : -EBADF;
	err = marker__tr_open_private_dir(s->dir_fd.fd, ".buffers", create);
	if (err < 0 || marker__kept_set(&s->bufs_fd, err) < 0)
		return err < 0 ? err : -EBADF;
	if (marker__kept_set(&s->lock_fd, openat(s->bufs_fd.fd, "lock",
					      O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -errno;
	/* One live session per directory: a second one, or a recovery, waits its turn. */
	if (flock(s->lock_fd.fd, LOCK_EX | LOCK_NB))
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	err = map_buffers(s, create);
	if (err < 0 && create)
		start_failed(s, err);
	return err;
}

static int map_buffers(struct tr_session *s, int create)
{
	char name[64];
	int fd;

	if (create && getrandom(s->tag, sizeof(s->tag), 0) != sizeof(s->tag))
		snprintf((char *)s->tag, sizeof(s->tag), "%07x", (unsigned)getpid());
	s->sh_size = sizeof(struct tr_session_hdr);
	fd = open_buffer_file(s, "session", create, s->sh_size);
	if (fd < 0)
		return fd;
	if (!create) {
		struct stat st;

		if (fstat(fd, &st) || (size_t)st.st_size < s->sh_size) {
			close(fd);
			return -EINVAL;
		}
	}
	s->sh = map_file(fd, s->sh_size, 0);
	close(fd);
	if (!s->sh)
		return -errno;
	if (create) {
		remove_old_trace(s->dir_fd.fd);
		s->sh->magic = TR_SESSION_MAGIC;
		s->sh->version = TR_VERSION;
		s->sh->nbufs = s->nbufs;
		s->sh->nsubbufs = s->nsubbufs;
		s->sh->subbuf_size = s->sbsize;
		s->sh->overwrite = (uint32_t)s->overwrite;
		/* Where the links to these files are (shm_gc.c): the directory's own name now. */
		snprintf(name, sizeof(name), "/proc/self/fd/%d", s->dir_fd.fd);
		if (readlink(name, s->sh->dir, sizeof(s->sh->dir) - 1) < 0)
			s->sh->dir[0] = 0;
	} else {
		if (s->sh->magic != TR_SESSION_MAGIC || s->sh->version != TR_VERSION ||
		    !s->sh->nbufs || s->sh->nbufs > 65536 || s->sh->nsubbufs < 2 ||
		    s->sh->subbuf_size < 4096 || (s->sh->subbuf_size & (s->sh->subbuf_size - 1)) ||
		    s->sh->subbuf_size > (1u << 30))
			return -EINVAL;
		s->nbufs = s->sh->nbufs;
		s->nsubbufs = s->sh->nsubbufs;
		s->sbsize = s->sh->subbuf_size;
		s->overwrite = !!s->sh->overwrite;
	}
	s->sbshift = (unsigned)__builtin_ctzll(s->sbsize);
	s->sbmask = s->sbsize - 1;
	s->nsb_pow2 = !(s->nsubbufs & (s->nsubbufs - 1));
	s->ring_mask = s->nsb_pow2 ? ((uint64_t)s->nsubbufs << s->sbshift) - 1 : 0;

	s->bufs = calloc(s->nbufs, sizeof(*s->bufs));
	if (!s->bufs)
		return -ENOMEM;
	for (unsigned i = 0; i < s->nbufs; i++)
		s->bufs[i].stream.fd = -1;
	for (unsigned i = 0; i < s->nbufs; i++) {
		struct tr_buf *b = &s->bufs[i];
		size_t off = buf_data_offset(s->nsubbufs);

		b->map_size = off + (size_t)s->sbsize * s->nsubbufs;
		snprintf(name, sizeof(name), "cpu%u", i);
		fd = open_buffer_file(s, name, create, b->map_size);
		if (fd < 0)
			return fd;
		if (!create) {
			struct stat st;

			if (fstat(fd, &st) || (size_t)st.st_size < b->map_size) {
				close(fd);
				return -EINVAL;
			}
		}
		/* Populated now, so that recording does not take the page faults. */
		b->h = map_file(fd, b->map_size, create);
		close(fd);
		if (!b->h)
			return -errno;
		if (create) {
			b->h->magic = TR_BUF_MAGIC;
			b->h->cpu = i;
			b->h->subbuf_size = s->sbsize;
			b->h->nsubbufs = s->nsubbufs;
			b->h->data_offset = off;
		} else if (b->h->magic != TR_BUF_MAGIC || b->h->subbuf_size != s->sbsize ||
			   b->h->nsubbufs != s->nsubbufs) {
			return -EINVAL;
		}
		b->data = (char *)b->h + off;
		snprintf(name, sizeof(name), "cpu%u", i);
		fd = create ? marker__tr_create(s->dir_fd.fd, name, O_RDWR, 0644)
			    : marker__tr_open_own(s->dir_fd.fd, name, O_RDWR | O_CREAT);
		if (fd < 0)
			return fd;
		if (marker__kept_set(&b->stream, fd) < 0)
			return -EBADF;
		/* Room for the final counts, whatever happens later (flush.c). */
		if (create && fallocate(b->stream.fd, FALLOC_FL_KEEP_SIZE, 0, TR_TAIL_RESERVE)) {
			if (errno != EOPNOTSUPP && errno != ENOSYS)
				return -errno;
			b->no_falloc = 1;
		}
	}
	return 0;
}

/*
 * The session's descriptors: still ours, or opened again by name on the
 * very same files (kept_fd.h says who closes them: a program that closed
 * every descriptor loses no event).  The lock is taken again, its flock
 * having gone with the last descriptor of it.  Returns 0, or -EBADF if one
 * cannot be found again (the trace directory moved or removed meanwhile):
 * a stream without its descriptor counts what it cannot write as
 * discarded (flush.c), and the first error is the session's.
 */
int marker__tr_reclaim_fds(struct tr_session *s)
{
	char name[32];
	int err = 0;

	if (!marker__kept_ours(&s->dir_fd) &&
	    !marker__kept_again(&s->dir_fd, marker__tr_open_dir(s->dir)))
		err = -EBADF;
	if (!err && !marker__kept_ours(&s->bufs_fd) &&
	    !marker__kept_again(&s->bufs_fd,
				marker__tr_open_private_dir(s->dir_fd.fd, ".buffers", 0)))
		err = -EBADF;
	if (!err && !marker__kept_ours(&s->lock_fd)) {
		if (!marker__kept_again(&s->lock_fd, openat(s->bufs_fd.fd, "lock",
							    O_RDWR | O_NOFOLLOW | O_CLOEXEC)) ||
		    flock(s->lock_fd.fd, LOCK_EX | LOCK_NB))
			err = -EBADF;
	}
	for (unsigned i = 0; s->bufs && i < s->nbufs; i++) {
		struct tr_buf *b = &s->bufs[i];

		if (marker__kept_ours(&b->stream))
			continue;
		snprintf(name, sizeof(name), "cpu%u", i);
		if (s->dir_fd.fd < 0 ||
		    !marker__kept_again(&b->stream, marker__tr_open_own(s->dir_fd.fd, name, O_RDWR)))
			err = -EBADF;
	}
	if (err)
		marker__tr_note_error(s, err);
	return err;
}

void marker__tr_unmap(struct tr_session *s)
{
	for (unsigned i = 0; s->bufs && i < s->nbufs; i++) {
		if (s->bufs[i].h)
			munmap(s->bufs[i].h, s->bufs[i].map_size);
		marker__kept_close(&s->bufs[i].stream);
	}
	free(s->bufs);
	s->bufs = NULL;
	if (s->sh)
		munmap(s->sh, s->sh_size);
	s->sh = NULL;
	marker__kept_close(&s->lock_fd); /* releases the flock */
	marker__kept_close(&s->bufs_fd);
	marker__kept_close(&s->dir_fd);
}

int marker__tr_remove_buffers(struct tr_session *s)
{
	char name[64];

	/* Closed by the program: nothing is removed in what took their numbers (kept_fd.h). */
	if (!marker__kept_ours(&s->dir_fd) || !marker__kept_ours(&s->bufs_fd))
		return -EBADF;
	for (unsigned i = 0; i < s->nbufs; i++) {
		snprintf(name, sizeof(name), "cpu%u", i);
		remove_buffer_file(s, name);
	}
	remove_buffer_file(s, "session");
	unlinkat(s->bufs_fd.fd, "lock", 0);
	return unlinkat(s->dir_fd.fd, ".buffers", AT_REMOVEDIR) ? -errno : 0;
}

static const char *type_name(char c)
{
	switch (c) {
	case MARKER_TYPE_S8: return "int8_t";
	case MARKER_TYPE_U8: return "uint8_t";
	case MARKER_TYPE_S16: return "int16_t";
	case MARKER_TYPE_U16: return "uint16_t";
	case MARKER_TYPE_S32: return "int32_t";
	case MARKER_TYPE_U32: return "uint32_t";
	case MARKER_TYPE_S64: return "int64_t";
	case MARKER_TYPE_U64: return "uint64_t";
	case MARKER_TYPE_FLOAT: return "float32_t";
	case MARKER_TYPE_DOUBLE:
	case MARKER_TYPE_LDOUBLE: return "float64_t";
	case MARKER_TYPE_POINTER: return sizeof(void *) == 8 ? "xptr64_t" : "xptr32_t";
	case MARKER_TYPE_STRING: return "string";
	default: return NULL;
	}
}

static void tsdl_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

static void uuid_str(char out[37], const uint8_t u[16])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
		 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
}

struct tid_ent {
	int32_t tid;
	uint32_t index;
};

static int by_tid_then_index(const void *a, const void *b)
{
	const struct tid_ent *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * The thread table as env entries `thread_name_TID = "name";`, one per tid
 * (the newest entry of a tid the kernel reused), sorted by tid, and
 * `threads_unnamed = N;` when the table overflowed.
 */
static void thread_names(FILE *f, const struct tr_session_hdr *sh)
{
	uint32_t n = __atomic_load_n(&sh->nthreads, __ATOMIC_ACQUIRE), k = 0;
	struct tid_ent *v;

	if (n > TR_MAX_THREADS) {
		fprintf(f, "\tthreads_unnamed = %u;\n", n - TR_MAX_THREADS);
		n = TR_MAX_THREADS;
	}
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return; /* names are not needed to read the events */
	for (uint32_t i = 0; i < n; i++) {
		int32_t tid = __atomic_load_n(&sh->threads[i].tid, __ATOMIC_ACQUIRE);

		if (tid > 0)
			v[k++] = (struct tid_ent){tid, i};
	}
	qsort(v, k, sizeof(*v), by_tid_then_index);
	for (uint32_t i = 0; i < k; i++) {
		char name[TR_THREAD_NAME];

		if (i + 1 < k && v[i + 1].tid == v[i].tid)
			continue;
		memcpy(name, sh->threads[v[i].index].name, sizeof(name));
		name[sizeof(name) - 1] = 0;
		fprintf(f, "\tthread_name_%d = ", (int)v[i].tid);
		tsdl_string(f, name);
		fprintf(f, ";\n");
	}
	free(v);
}

int marker__tr_write_metadata(struct tr_session *s, int durable)
{
	const struct tr_session_hdr *sh = s->sh;
	uint32_t ndecl = __atomic_load_n(&sh->ndecl, __ATOMIC_ACQUIRE);
	uint32_t nid = __atomic_load_n(&sh->next_id, __ATOMIC_ACQUIRE);
	uint32_t threads_gen = __atomic_load_n(&sh->threads_gen, __ATOMIC_ACQUIRE);
	uint64_t freq, offset;
	int64_t offset_s;
	char uuid[37], *text = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	uuid_str(uuid, sh->uuid);
	marker__tr_clock_params(sh, &freq, &offset_s, &offset);
	fprintf(f, "/* CTF 1.8 */\n\n");
	static const struct {
		unsigned size;
		int sign;
		const char *name;
	} ints[] = {{8, 1, "int8_t"},   {8, 0, "uint8_t"},   {16, 1, "int16_t"},
		    {16, 0, "uint16_t"}, {32, 1, "int32_t"},  {32, 0, "uint32_t"},
		    {64, 1, "int64_t"},  {64, 0, "uint64_t"}};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		fprintf(f, "typealias integer { size = %u; align = 8; signed = %s; } := %s;\n",
			ints[i].size, ints[i].sign ? "true" : "false", ints[i].name);
	fprintf(f,
		"typealias integer { size = 5; align = 1; signed = false; } := uint5_t;\n"
		"typealias integer { size = 32; align = 8; signed = false; base = 16; } := xptr32_t;\n"
		"typealias integer { size = 64; align = 8; signed = false; base = 16; } := xptr64_t;\n"
		"typealias floating_point { exp_dig = 8; mant_dig = 24; align = 8; } := float32_t;\n"
		"typealias floating_point { exp_dig = 11; mant_dig = 53; align = 8; } := float64_t;\n"
		"\n"
		"trace {\n"
		"\tmajor = 1;\n"
		"\tminor = 8;\n"
		"\tuuid = \"%s\";\n"
		"\tbyte_order = le;\n"
		"\tpacket.header := struct {\n"
		"\t\tuint32_t magic;\n"
		"\t\tuint8_t uuid[16];\n"
		"\t\tuint32_t stream_id;\n"
		"\t};\n"
		"};\n\n",
		uuid);
	fprintf(f, "env {\n\ttracer_name = \"markers\";\n\ttracer_major = 1;\n\tprocname = ");
	tsdl_string(f, sh->procname);
	fprintf(f, ";\n\tvpid = %lld;\n\tmode = \"%s\";\n", (long long)sh->pid,
		sh->overwrite ? "overwrite" : "discard");
	thread_names(f, sh);
	fprintf(f, "};\n\n");
	fprintf(f,
		"clock {\n"
		"\tname = \"markers\";\n"
		"\tuuid = \"%s\";\n"
		"\tdescription = \"%s\";\n"
		"\tfreq = %llu;\n"
		"\tprecision = 1;\n"
		"\toffset_s = %lld;\n"
		"\toffset = %llu;\n"
		"\tabsolute = true;\n"
		"};\n\n",
		uuid,
		sh->clock_tsc ? "rdtsc, calibrated against CLOCK_REALTIME" : "CLOCK_MONOTONIC",
		(unsigned long long)freq, (long long)offset_s, (unsigned long long)offset);
	fprintf(f,
		"typealias integer { size = 27; align = 1; signed = false; map = clock.markers.value; } := uint27_clock_t;\n"
		"typealias integer { size = 64; align = 8; signed = false; map = clock.markers.value; } := uint64_clock_t;\n"
		"\n"
		"struct packet_context {\n"
		"\tuint64_clock_t timestamp_begin;\n"
		"\tuint64_clock_t timestamp_end;\n"
		"\tuint64_t content_size;\n"
		"\tuint64_t packet_size;\n"
		"\tuint64_t packet_seq_num;\n"
		"\tuint64_t events_discarded;\n"
		"\tuint32_t cpu_id;\n"
		"} align(8);\n\n"
		"struct event_header_compact {\n"
		"\tenum : uint5_t { compact = 0 ... 30, extended = 31 } id;\n"
		"\tvariant <id> {\n"
		"\t\tstruct {\n"
		"\t\t\tuint27_clock_t timestamp;\n"
		"\t\t} compact;\n"
		"\t\tstruct {\n"
		"\t\t\tuint32_t id;\n"
		"\t\t\tuint64_clock_t timestamp;\n"
		"\t\t} extended;\n"
		"\t} v;\n"
		"} align(8);\n\n"
		"stream {\n"
		"\tid = 0;\n"
		"\tevent.header := struct event_header_compact;\n"
		"\tpacket.context := struct packet_context;\n"
		"\tevent.context := struct {\n"
		"\t\tint32_t _vtid;\n"
		"\t};\n"
		"};\n");
	for (uint32_t id = 0; id < nid && id < TR_MAX_IDS; id++) {
		uint32_t off = __atomic_load_n(&sh->rec_off[id], __ATOMIC_ACQUIRE);
		const struct tr_decl *d;
		const char *name, *types, *format, *file;
		char names[MARKER_MAX_ARGS][MARKER__FIELD_NAME_MAX];
		unsigned nargs = 0;

		if (!off || off - 1 + sizeof(*d) > TR_ARENA_SIZE)
			continue;
		d = (const struct tr_decl *)(sh->arena + off - 1);
		name = d->strings;
		types = name + strlen(name) + 1;
		format = types + strlen(types) + 1;
		file = format + strlen(format) + 1;
		while (types[nargs] && types[nargs] != MARKER_TYPE_UNKNOWN &&
		       nargs < MARKER_MAX_ARGS)
			nargs++;
		marker__field_names(format, nargs, names);
		fprintf(f, "\nevent {\n\tname = ");
		tsdl_string(f, name);
		fprintf(f, ";\n\tid = %u;\n\tstream_id = 0;\n\tloglevel = 13;\n\tmodel.emf.uri = ",
			id);
		{
			char loc[600];

			snprintf(loc, sizeof(loc), "%s:%u", file, d->line);
			tsdl_string(f, loc);
		}
		fprintf(f, ";\n\tfields := struct {\n");
		for (unsigned i = 0; i < nargs; i++)
			fprintf(f, "\t\t%s _%s;\n", type_name(types[i]), names[i]);
		fprintf(f, "\t};\n};\n");
	}
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	/*
	 * @durable: on the disk before it replaces the previous one, for the
	 * packets written after it need its declarations, and a metadata file
	 * lost in write-back would take every packet with it.
	 */
	err = replace_file(s, "metadata", text, len, durable);
	free(text);
	if (!err) {
		s->metadata_ndecl = ndecl;
		s->metadata_threads_gen = threads_gen;
		s->metadata_unsynced = !durable;
	}
	return err;
}

/* Rewrite DIR/@name in place: on a full disk, its block is still there to write into. */
static int rewrite_in_place(struct tr_session *s, const char *name, const char *text, size_t len,
			    int durable)
{
	int fd = -EBADF, err = 0;

	if (!marker__kept_ours(&s->dir_fd))
		marker__tr_reclaim_fds(s); /* closed by the program: kept_fd.h */
	if (s->dir_fd.fd >= 0)
		fd = marker__tr_open_own(s->dir_fd.fd, name, O_WRONLY);
	if (fd < 0)
		return fd;
	errno = 0;
	if (pwrite(fd, text, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len))
		err = errno ? -errno : -ENOSPC;
	else if (durable && fdatasync(fd) && errno != EINVAL)
		err = -errno;
	close(fd);
	return err;
}

int marker__tr_write_stats(struct tr_session *s, const struct marker_tracer_stats *st,
			   int durable)
{
	uint32_t werr = __atomic_load_n(&s->sh->write_err, __ATOMIC_RELAXED);
	const char *state = s->state, *ename = werr ? strerrorname_np(TR_ERRNO(werr)) : NULL;
	char text[512];
	int n, err;

	/* A finished trace that misses events tells why in its state (docs/trace-format.md). */
	if (werr && strcmp(state, "recording"))
		state = !(werr & TR_ERR_SYNC) && (TR_ERRNO(werr) == ENOSPC || TR_ERRNO(werr) == EDQUOT)
				? "disk-full"
				: "write-error";
	n = snprintf(text, sizeof(text),
		     "pid %lld\nstate %s\nmode %s\nrecorded %llu\ndiscarded %llu\nbytes %llu\n"
		     "events %u\nbuffers %llu\nfiltered %llu\n",
		     (long long)s->sh->pid, state, s->overwrite ? "overwrite" : "discard",
		     (unsigned long long)st->recorded, (unsigned long long)st->discarded,
		     (unsigned long long)st->bytes, __atomic_load_n(&s->sh->ndecl, __ATOMIC_ACQUIRE),
		     /* Memory of the session's buffer files (docs/trace-format.md). */
		     (unsigned long long)(s->nbufs * (s->bufs ? s->bufs[0].map_size : 0) + s->sh_size),
		     (unsigned long long)st->filtered);
	if (werr)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "error %s\n",
			      ename ? ename : "EIO");
	err = replace_file(s, ".stats", text, (size_t)n, durable);
	if (err == -ENOSPC || err == -EDQUOT)
		err = rewrite_in_place(s, ".stats", text, (size_t)n, durable);
	return err;
}
