/*
 * trace_dir.h - opening the trace directory and creating its files safely
 * (trace_dir.c says against what).  Every function returns a descriptor or
 * 0 on success, a negative errno on failure.
 */
#ifndef MARKERS_TRACE_DIR_H
#define MARKERS_TRACE_DIR_H

#include <sys/stat.h>

/* 0 if @st is a directory of ours that nobody else may write into (or sticky), else -EPERM/-ENOTDIR. */
int marker__tr_dir_ok(const struct stat *st);
/* Open @path, a directory, never through a symbolic link (-ELOOP), and check it (-EPERM). */
int marker__tr_open_dir(const char *path);
/* Open (@create: make) the subdirectory @name, which must be ours and closed to others (-EPERM). */
int marker__tr_open_private_dir(int dir_fd, const char *name, int create);
/* Create @name anew: whatever had the name is removed, never followed (-EEXIST if replanted). */
int marker__tr_create(int dir_fd, const char *name, int flags, mode_t mode);
/* Open the existing @name (@flags may add O_CREAT): a regular file of ours with one link, or -EPERM. */
int marker__tr_open_own(int dir_fd, const char *name, int flags);
/* 0 if @fd is a regular file of ours with one link, else -EPERM. */
int marker__tr_check_own(int fd);
/* 1 if @target is the name the tracer gives the /dev/shm file of buffer @name, else 0. */
int marker__tr_shm_target_ok(const char *target, const char *name);

#endif /* MARKERS_TRACE_DIR_H */
