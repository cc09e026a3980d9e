/*
 * markers/probe.h - connecting probes to markers, and enumerating markers.
 *
 * Concurrency: every function here is thread-safe (one library mutex) and
 * none is async-signal-safe.  Probes run concurrently with all of them: a
 * probe may run on any thread, in a signal handler, nested in itself.
 * A probe must not call the functions of this header.
 */
#ifndef MARKERS_PROBE_H
#define MARKERS_PROBE_H

#include <stdarg.h>
#include <stddef.h>
#include "abi.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A probe receives the descriptor of the site that fired (its name, format,
 * and type codes in marker->types, so the arguments can be read with
 * va_arg without parsing the format), the private pointer given at
 * registration, the format, and the arguments.  It may read *args once.
 * It may change errno: the library restores it before the site goes on.
 */
typedef void marker_probe_func(const struct marker *marker, void *probe_private,
			       const char *fmt, va_list *args);

/*
 * marker_probe_register - connect @probe to the marker @name and switch it on.
 *
 * @format NULL adopts the marker's format.  A probe may be registered before
 * any loaded object has the marker: it is kept and connected when one loads.
 * Several probes per marker; the same (probe, private) pair once per marker.
 * Returns 0, -EINVAL (NULL name or probe), -EPERM (@format differs from the
 * marker's; nothing changes), -EEXIST (already registered), -ENOMEM, or
 * -EAGAIN: the probe is connected, but some site of the marker cannot be
 * switched on yet (a thread keeps SIGTRAP blocked by means the library
 * cannot see, see the README); marker_foreach() gives each such site's
 * reason, and the library switches it as soon as it can (a thread of the
 * library tries every 100 ms; any later switch tries too).  Unregister to
 * give up.
 */
MARKER_API int marker_probe_register(const char *name, const char *format,
				     marker_probe_func *probe, void *probe_private);

/*
 * marker_probe_unregister - disconnect a probe.  The marker goes off with
 * its last probe.  The probe may still be running on other threads when
 * this returns: see marker_synchronize_unregister().
 * Returns 0, -EINVAL (NULL name or probe) or -ENOENT (no such registration).
 */
MARKER_API int marker_probe_unregister(const char *name, marker_probe_func *probe,
				       void *probe_private);

/*
 * marker_probe_register_glob - connect @probe to every marker whose name
 * matches the fnmatch(3) pattern @glob, now and as objects load, adopting
 * each marker's format.  Returns the number of markers connected now (>= 0),
 * -EINVAL, -EEXIST (same glob, probe and private already registered), -ENOMEM,
 * or -EAGAIN (connected, some site not switched on yet: as for
 * marker_probe_register()).
 */
MARKER_API int marker_probe_register_glob(const char *glob, marker_probe_func *probe,
					  void *probe_private);

/* Undo marker_probe_register_glob().  Returns 0, -EINVAL (NULL glob or probe), -ENOENT. */
MARKER_API int marker_probe_unregister_glob(const char *glob, marker_probe_func *probe,
					    void *probe_private);

/*
 * marker_synchronize_unregister - wait until no thread can still be inside
 * a probe unregistered before this call; then its code and data may go
 * (free, dlclose).  Must not be called from a probe.
 */
MARKER_API void marker_synchronize_unregister(void);

/* How a site is switched at the moment. */
enum marker_site_mode {
	MARKER_MODE_FLAG = 0,    /* generic site: the memory flag */
	MARKER_MODE_PATCHED = 1, /* immediate or jump site: its code is rewritten */
	MARKER_MODE_FALLBACK = 2,/* immediate or jump site that cannot be patched: the flag */
	MARKER_MODE_REFUSED = 3, /* kept off: format differs from the marker's */
};

struct marker_site_info {
	const struct marker *marker; /* the descriptor (file, line, kind...) */
	void *address;               /* the patchable instruction; NULL for generic */
	const char *object;          /* path of the loaded object ("" main program) */
	enum marker_site_mode mode;
	const char *reason;          /* why FALLBACK or REFUSED, else NULL */
};

struct marker_probe_info {
	marker_probe_func *probe;
	void *probe_private;
	const char *glob; /* pattern it came from, or NULL */
};

struct marker_info {
	const char *name;
	const char *format; /* NULL while only probes know the name */
	const char *types;  /* of the first site; NULL without sites */
	int enabled;        /* 1 while it has probes and sites */
	size_t nsites;
	const struct marker_site_info *sites;
	size_t nprobes;
	const struct marker_probe_info *probes;
};

/*
 * marker_foreach - call @cb for every marker known (loaded, or named by a
 * registered probe), in name order, with the library lock held: @cb must
 * not call the functions of this header.  Stops when @cb returns non-zero
 * and returns that value; returns 0 after the last marker, -EINVAL (NULL
 * @cb), or -ENOMEM.
 */
typedef int marker_foreach_func(const struct marker_info *info, void *arg);
MARKER_API int marker_foreach(marker_foreach_func *cb, void *arg);

/* Printable name of a site kind / mode ("generic", "patched", ...). */
MARKER_API const char *marker_kind_name(unsigned kind);
MARKER_API const char *marker_mode_name(enum marker_site_mode mode);

#ifdef __cplusplus
}
#endif
#endif /* MARKERS_PROBE_H */
