/*
 * tests/diff/diff.h: the differential tester's shared types.
 *
 * An operation sequence (diff_op[]) is generated from a seed (gen.c) and
 * run on two targets at once (run.c): the oracle, which is the kernel on
 * tmpfs, and a target under test, which is either a store through the
 * library (target_lib.c) or a store through a vfsmount mount, reached with
 * plain system calls (target_sys.c serves both the oracle and the mount).
 * Each operation gives a diff_res; the two results must agree. A sequence
 * that diverges is shrunk and printed as a C test case (run.c). fsx.c
 * checks one file's data against an in-memory model instead.
 */
#ifndef VFS_TESTS_DIFF_H
#define VFS_TESTS_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Descriptor slots: an operation names a slot; each target maps slots to
 * its own descriptors. An operation on an empty slot is skipped (-EBADF
 * on every target). */
#define DIFF_SLOTS 6
#define DIFF_PATH  80
/* Largest read or write of one operation. */
#define DIFF_IO_MAX (72u * 1024)
/* Directory listings and readlink texts. */
#define DIFF_TEXT_MAX 8192

typedef enum diff_code {
	OP_OPEN,
	OP_CLOSE,
	OP_READ,
	OP_PREAD,
	OP_WRITE,
	OP_PWRITE,
	OP_LSEEK,
	OP_FTRUNCATE,
	OP_TRUNCATE,
	OP_FSTAT,
	OP_STAT,
	OP_LSTAT,
	OP_MKDIR,
	OP_RMDIR,
	OP_UNLINK,
	OP_RENAME,
	OP_LINK,
	OP_SYMLINK,
	OP_READLINK,
	OP_CHMOD,
	OP_FCHMOD,
	OP_UTIMENS,
	OP_FUTIMENS,
	OP_READDIR,  /* a path: open, list, close */
	OP_FREADDIR, /* a slot: rewind, list, rewind (where a listing ends
	                is each filesystem's own cookie, not compared) */
	OP_FSYNC,
	OP_NCODES
} diff_code;

typedef struct diff_op {
	diff_code code;
	int slot;        /* descriptor slot */
	int flags;       /* open, rename, utimens flags; lseek whence */
	uint32_t mode;   /* open, mkdir, chmod */
	int64_t off;     /* pread/pwrite offset, lseek offset, truncate size */
	uint32_t len;    /* read/write count */
	uint32_t fill;   /* the data pattern written */
	bool times_null; /* utimens with times == NULL */
	struct timespec times[2];
	char path[DIFF_PATH];  /* the path (linkpath for symlink) */
	char path2[DIFF_PATH]; /* rename/link target; symlink target */
} diff_op;

/* The attributes POSIX defines and we compare. */
typedef struct diff_attr {
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid, gid;
	int64_t size;
	struct timespec atime, mtime;
} diff_attr;

typedef struct diff_res {
	int64_t rc; /* >= 0, or -errno */
	bool has_attr;
	diff_attr attr;
	uint32_t ndata; /* bytes in data (reads) */
	unsigned char *data;
	uint32_t ntext; /* bytes in text (readlink; readdir: sorted names,
	                   each ending in '\n') */
	char *text;
} diff_res;

/* A place operations run: the kernel (a directory, reached with openat2
 * RESOLVE_IN_ROOT so that "/" and ".." stay inside it, as in the VFS) or
 * the library. */
typedef struct diff_target diff_target;
struct diff_target {
	const char *name;
	/* Start a fresh, empty tree. 0 or -errno. */
	int (*reset)(diff_target *t);
	/* Run one operation; res buffers belong to the target. */
	void (*exec)(diff_target *t, const diff_op *op, diff_res *res);
	/* Close every slot and drop the tree (but keep what reset needs). */
	void (*finish)(diff_target *t);
	/* Free the target. */
	void (*destroy)(diff_target *t);
	void *priv;
};

/* target_sys.c: the kernel below base (a host directory: tmpfs for the
 * oracle, a vfsmount mount point for the mount mode). Each reset makes a
 * fresh subdirectory of base and uses it as the root. plain: make plain
 * *at() calls from the root instead of resolving in it (only safe for
 * sequences generated with DIFF_GEN_NO_ESCAPE). */
diff_target *diff_sys_new(const char *name, const char *base, bool plain);

/* target_lib.c: a library instance with a fresh store of kind ("memory",
 * "disk", "sqlite") at "/" for each reset; host data lives under scratch. */
diff_target *diff_lib_new(const char *kind, const char *scratch);

/* ---- randomness and generation (gen.c) ---------------------------------- */

/* The generator's source of choices: a seeded PRNG, or a fuzzer's bytes. */
typedef struct diff_rand {
	uint64_t state;
	const uint8_t *bytes; /* non-NULL: take choices from here */
	size_t nbytes, pos;
} diff_rand;

void diff_rand_seed(diff_rand *r, uint64_t seed);
uint32_t diff_rand_below(diff_rand *r, uint32_t n);
bool diff_rand_done(const diff_rand *r);

/* Generator switches (diff_gen_flags). */
/* No way out of the root: no leading "/", no "..", no absolute symlink
 * targets (for the plain-syscall self-check of the oracle). */
#define DIFF_GEN_NO_ESCAPE (1u << 0)
/* Known divergences a run can be told to step around until they are
 * fixed (vfsdiff --avoid NAME,...; known.c lists them). */
#define DIFF_AVOID_SHIFT 8
extern unsigned diff_gen_flags;

/* Set the avoid bit named name; returns 0, or -1 for an unknown name. */
int diff_avoid(const char *name);
/* Print the known divergences one per line. */
void diff_avoid_list(FILE *f);

/* known.c: should op be skipped on both targets (a known divergence that
 * would change state)? Asks the oracle where the state matters. */
bool diff_known_skip(diff_target *oracle, const diff_op *op);
/* Is the pair of results (oracle want, test got) a known divergence? */
bool diff_known_pair(const diff_op *op, int64_t want, int64_t got);

/* Fill ops[0..n) with a random sequence. Returns how many were made
 * (fewer than n when a fuzzer's bytes run out). */
size_t diff_gen(diff_rand *r, diff_op *ops, size_t n);

/* The data pattern of fill, as written by OP_WRITE/OP_PWRITE. */
void diff_fill(unsigned char *buf, size_t len, uint32_t fill);

/* The interesting file offsets (the generator's and the tree walk's). */
extern const int64_t diff_offsets[];
extern const size_t diff_noffsets;

const char *diff_code_name(diff_code c);

/* ---- running and comparing (run.c) -------------------------------------- */

typedef struct diff_report {
	bool diverged;
	size_t at;       /* index of the diverging op, or n for the tree */
	bool tree;       /* the tree walk diverged (after op at - 1) */
	diff_code code;  /* the op's code (when !tree) */
	char what[1024]; /* human description */
} diff_report;

/* When set, diff_run prints every operation with both results here. */
extern FILE *diff_trace;

/* Run ops on both targets (after resetting them); compare every result
 * and the whole tree every tree_every ops and at the end. */
void diff_run(diff_target *oracle, diff_target *test, const diff_op *ops,
              size_t n, size_t tree_every, diff_report *rep);

/* Shrink a diverging sequence in place; returns its new length. */
size_t diff_shrink(diff_target *oracle, diff_target *test, diff_op *ops,
                   size_t n, size_t tree_every, diff_report *rep);

/* Print ops as a conformance-suite test case whose assertions hold the
 * oracle's results (run again here to get them). */
void diff_print_case(FILE *f, diff_target *oracle, const diff_op *ops, size_t n,
                     const char *name);

/* Print one operation in a readable form. */
void diff_print_op(FILE *f, const diff_op *op);

/* ---- fsx (fsx.c) --------------------------------------------------------- */

/* One file, nops mixed writes/truncates/reads checked against a model.
 * Returns 0, or -1 after printing the failing step. */
int diff_fsx(diff_target *t, uint64_t seed, size_t nops, FILE *log);

#endif /* VFS_TESTS_DIFF_H */
