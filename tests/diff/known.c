/*
 * tests/diff/known.c: divergences already found and reported, which a run
 * can be told to step around (vfsdiff --avoid NAME,...) so that it finds
 * the next one instead of the same one again.
 *
 * Each entry either skips the operations that would trigger it (on both
 * targets, decided from the operation and, where the state matters, from
 * the oracle's own fstat), or accepts one pair of results for one kind of
 * operation (an errno-order difference: both sides fail and change
 * nothing, so the runs stay in step). Remove an entry's name from the
 * --avoid lists in meson.build when its fix lands.
 */
#include "diff.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned diff_gen_flags;

enum {
	KNOWN_CREAT_DIRECTORY,
	KNOWN_DIR_LSEEK,
	KNOWN_NEGATIVE_OFFSET,
	KNOWN_CREAT_EXCL_DOT,
	KNOWN_RENAME_ANCESTOR,
	KNOWN_RENAME_ORDER,
	KNOWN_EXCHANGE_SLASH,
	KNOWN_TRUNCATE_MTIME,
	KNOWN_COUNT
};

static const struct {
	const char *name;
	const char *what;
} known[KNOWN_COUNT] = {
        [KNOWN_CREAT_DIRECTORY] = {"creat-directory",
                                   "open(O_CREAT | O_DIRECTORY) is EINVAL on "
                                   "Linux >= 6.4; the library creates a "
                                   "file"},
        [KNOWN_DIR_LSEEK] = {"dir-lseek",
                             "lseek(SEEK_END) on a directory is EINVAL on "
                             "tmpfs; FUSE's generic_file_llseek allows it "
                             "(mount mode only)"},
        [KNOWN_NEGATIVE_OFFSET] = {"negative-offset",
                                   "pread/pwrite at a negative offset is "
                                   "EINVAL before EBADF/EISDIR"},
        [KNOWN_CREAT_EXCL_DOT] = {"creat-excl-dot",
                                  "open(\".\" or \"..\", O_CREAT | O_EXCL) "
                                  "is EEXIST, not EISDIR"},
        [KNOWN_RENAME_ANCESTOR] = {"rename-ancestor",
                                   "rename onto an ancestor of the source "
                                   "is ENOTEMPTY, not EISDIR"},
        [KNOWN_RENAME_ORDER] = {"rename-order",
                                "renameat2 checks NOREPLACE (EEXIST) and "
                                "EXCHANGE's missing target (ENOENT) before "
                                "trailing slashes on non-directories "
                                "(ENOTDIR), and those before a rename onto "
                                "itself"},
        [KNOWN_EXCHANGE_SLASH] = {"exchange-slash",
                                  "RENAME_EXCHANGE onto \"file/\" is ENOTDIR; "
                                  "the library exchanges"},
        [KNOWN_TRUNCATE_MTIME] = {"truncate-mtime",
                                  "truncate(path) to the size the file "
                                  "already has keeps mtime on tmpfs; the "
                                  "library sets it"},
};

static bool on(unsigned which)
{
	return (diff_gen_flags >> DIFF_AVOID_SHIFT) & (1u << which);
}

int diff_avoid(const char *name)
{
	for (unsigned i = 0; i < KNOWN_COUNT; i++) {
		if (strcmp(name, known[i].name) == 0) {
			diff_gen_flags |= 1u << (DIFF_AVOID_SHIFT + i);
			return 0;
		}
	}
	return -1;
}

void diff_avoid_list(FILE *f)
{
	for (unsigned i = 0; i < KNOWN_COUNT; i++)
		fprintf(f, "  %-16s %s\n", known[i].name, known[i].what);
}

/* Is the oracle's descriptor in op's slot a directory? */
static bool slot_is_dir(diff_target *oracle, const diff_op *op)
{
	diff_op q;
	diff_res r;

	memset(&q, 0, sizeof q);
	q.code = OP_FSTAT;
	q.slot = op->slot;
	oracle->exec(oracle, &q, &r);
	return r.rc == 0 && S_ISDIR(r.attr.mode);
}

/* Is path (followed) a file of exactly size bytes on the oracle? */
static bool path_has_size(diff_target *oracle, const char *path, int64_t size)
{
	diff_op q;
	diff_res r;

	memset(&q, 0, sizeof q);
	q.code = OP_STAT;
	memcpy(q.path, path, sizeof q.path);
	oracle->exec(oracle, &q, &r);
	return r.rc == 0 && S_ISREG(r.attr.mode) && r.attr.size == size;
}

/* Is path, without its trailing slashes, something other than a
 * directory on the oracle (lstat)? */
static bool path_is_nondir(diff_target *oracle, const char *path)
{
	diff_op q;
	diff_res r;
	size_t len = strlen(path);

	memset(&q, 0, sizeof q);
	q.code = OP_LSTAT;
	while (len > 1 && path[len - 1] == '/')
		len--;
	memcpy(q.path, path, len);
	oracle->exec(oracle, &q, &r);
	return r.rc == 0 && !S_ISDIR(r.attr.mode);
}

bool diff_known_skip(diff_target *oracle, const diff_op *op)
{
	switch (op->code) {
	case OP_OPEN:
		return on(KNOWN_CREAT_DIRECTORY) && (op->flags & O_CREAT) &&
		       (op->flags & O_DIRECTORY);
	case OP_LSEEK:
		return on(KNOWN_DIR_LSEEK) && op->flags != SEEK_SET &&
		       op->flags != SEEK_CUR && slot_is_dir(oracle, op);
	case OP_PREAD:
	case OP_PWRITE:
		return on(KNOWN_NEGATIVE_OFFSET) && op->off < 0;
	case OP_TRUNCATE:
		return on(KNOWN_TRUNCATE_MTIME) &&
		       path_has_size(oracle, op->path, op->off);
	case OP_RENAME:
		return on(KNOWN_EXCHANGE_SLASH) &&
		       (op->flags & RENAME_EXCHANGE) && op->path2[0] != '\0' &&
		       op->path2[strlen(op->path2) - 1] == '/' &&
		       path_is_nondir(oracle, op->path2);
	default:
		return false;
	}
}

static bool same_but_slashes(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 0 && a[la - 1] == '/')
		la--;
	while (lb > 0 && b[lb - 1] == '/')
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

bool diff_known_pair(const diff_op *op, int64_t want, int64_t got)
{
	switch (op->code) {
	case OP_OPEN:
		return on(KNOWN_CREAT_EXCL_DOT) && want == -EEXIST &&
		       got == -EISDIR && (op->flags & O_CREAT) &&
		       (op->flags & O_EXCL);
	case OP_RENAME:
		if (on(KNOWN_RENAME_ANCESTOR) && want == -ENOTEMPTY &&
		    got == -EISDIR)
			return true;
		if (!on(KNOWN_RENAME_ORDER))
			return false;
		if (got == -ENOTDIR && (want == -EEXIST || want == -ENOENT))
			return true;
		/* "x" onto "x/": the library's no-op comes first. */
		return want == -ENOTDIR && got == 0 &&
		       same_but_slashes(op->path, op->path2);
	default:
		return false;
	}
}
