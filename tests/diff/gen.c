/*
 * tests/diff/gen.c: random operation sequences for the differential tester.
 *
 * Names come from a tiny pool (a b c d e) and paths are at most three
 * components deep, so operations keep colliding: creating what exists,
 * removing what was just renamed, renaming a directory into itself. Offsets
 * and sizes come from a list of awkward values (page and SQLite-block
 * boundaries, 2^40 far beyond any end) mixed with small random ones.
 *
 * Choices are drawn from a diff_rand: a splitmix64 PRNG for seeded runs, or
 * a fuzzer's input bytes, so the libFuzzer target mutates sequences rather
 * than random numbers.
 *
 * Deliberate restrictions (each a documented difference of the library, or
 * a limit of the oracle): no access mode 3 (O_WRONLY|O_RDWR, which vfs.h
 * documents as -EINVAL), no SEEK_DATA/SEEK_HOLE (vfs_lseek has
 * SET/CUR/END only), offsets and sizes stay far below VFS_FILE_SIZE_MAX.
 */
#include "diff.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const int64_t diff_offsets[] = {
        0,
        1,
        511,
        512,
        4095,
        4096,
        4097,
        8191,
        8192,
        65535,
        65536,
        65537,
        131071,
        131072,
        131073,
        (int64_t)1 << 20,
        ((int64_t)1 << 20) + 1,
        ((int64_t)1 << 40) - 1,
        (int64_t)1 << 40,
};
const size_t diff_noffsets = sizeof diff_offsets / sizeof diff_offsets[0];

static const uint32_t gen_lens[] = {0,     1,     7,     100,  511,
                                    512,   4095,  4096,  4097, 65535,
                                    65536, 65537, 70000, 73728};

static const char *const gen_names[] = {"a", "b", "c", "d", "e"};

static const char *const code_names[OP_NCODES] = {
        [OP_OPEN] = "open",         [OP_CLOSE] = "close",
        [OP_READ] = "read",         [OP_PREAD] = "pread",
        [OP_WRITE] = "write",       [OP_PWRITE] = "pwrite",
        [OP_LSEEK] = "lseek",       [OP_FTRUNCATE] = "ftruncate",
        [OP_TRUNCATE] = "truncate", [OP_FSTAT] = "fstat",
        [OP_STAT] = "stat",         [OP_LSTAT] = "lstat",
        [OP_MKDIR] = "mkdir",       [OP_RMDIR] = "rmdir",
        [OP_UNLINK] = "unlink",     [OP_RENAME] = "rename",
        [OP_LINK] = "link",         [OP_SYMLINK] = "symlink",
        [OP_READLINK] = "readlink", [OP_CHMOD] = "chmod",
        [OP_FCHMOD] = "fchmod",     [OP_UTIMENS] = "utimens",
        [OP_FUTIMENS] = "futimens", [OP_READDIR] = "readdir",
        [OP_FREADDIR] = "freaddir", [OP_FSYNC] = "fsync",
};

const char *diff_code_name(diff_code c)
{
	return c < OP_NCODES ? code_names[c] : "?";
}

/* How often each operation is drawn, out of the sum. */
static const unsigned gen_weight[OP_NCODES] = {
        [OP_OPEN] = 14,    [OP_CLOSE] = 5,     [OP_READ] = 4,
        [OP_PREAD] = 5,    [OP_WRITE] = 6,     [OP_PWRITE] = 7,
        [OP_LSEEK] = 3,    [OP_FTRUNCATE] = 4, [OP_TRUNCATE] = 3,
        [OP_FSTAT] = 3,    [OP_STAT] = 4,      [OP_LSTAT] = 3,
        [OP_MKDIR] = 9,    [OP_RMDIR] = 4,     [OP_UNLINK] = 5,
        [OP_RENAME] = 8,   [OP_LINK] = 3,      [OP_SYMLINK] = 4,
        [OP_READLINK] = 2, [OP_CHMOD] = 2,     [OP_FCHMOD] = 1,
        [OP_UTIMENS] = 3,  [OP_FUTIMENS] = 2,  [OP_READDIR] = 3,
        [OP_FREADDIR] = 1, [OP_FSYNC] = 1,
};

void diff_rand_seed(diff_rand *r, uint64_t seed)
{
	uint64_t x = seed + 0x632BE59BD9B4E019u;

	/* Scramble the seed: splitmix64 steps by a constant, so seeds
	 * taken as states would give one stream shifted by a step each. */
	memset(r, 0, sizeof *r);
	for (int i = 0; i < 3; i++) {
		x ^= x >> 31;
		x *= 0xD6E8FEB86659FD93u;
		x ^= x >> 32;
		x *= 0xD6E8FEB86659FD93u;
	}
	r->state = x ^ (x >> 32);
}

bool diff_rand_done(const diff_rand *r)
{
	return r->bytes != NULL && r->pos >= r->nbytes;
}

uint32_t diff_rand_below(diff_rand *r, uint32_t n)
{
	uint64_t x;

	if (n <= 1)
		return 0;
	if (r->bytes != NULL) {
		/* One byte per choice, two for wide ones. */
		x = 0;
		for (unsigned i = 0; i < (n > 256 ? 2u : 1u); i++)
			x = x << 8 |
			    (r->pos < r->nbytes ? r->bytes[r->pos++] : 0u);
		return (uint32_t)(x % n);
	}
	/* splitmix64 */
	r->state += 0x9E3779B97F4A7C15u;
	x = r->state;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
	x ^= x >> 31;
	return (uint32_t)(x % n);
}

void diff_fill(unsigned char *buf, size_t len, uint32_t fill)
{
	/* Not periodic in 256 or 4096, so a misplaced block shows. */
	uint32_t x = fill * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

#define PICK(r, arr)                                                           \
	((arr)[diff_rand_below((r), sizeof(arr) / sizeof((arr)[0]))])

/*
 * What the generator believes exists: names it has asked to create as
 * directories or as other files. Most paths extend one of them by a name,
 * or repeat one, so that most operations reach something; the belief is
 * never checked (a failed mkdir still counts), which keeps stale names,
 * and so interesting errors, coming too.
 */
#define GEN_KNOWN 12
typedef struct gen_state {
	unsigned opened; /* slots an open was generated for */
	char dirs[GEN_KNOWN][DIFF_PATH];
	char files[GEN_KNOWN][DIFF_PATH];
	unsigned ndirs, nfiles;
} gen_state;

static void gen_remember(diff_rand *r, const gen_state *g,
                         char (*list)[DIFF_PATH], unsigned *n, const char *path)
{
	char clean[DIFF_PATH];
	size_t len;
	unsigned at;

	snprintf(clean, sizeof clean, "%s", path[0] == '/' ? path + 1 : path);
	len = strlen(clean);
	while (len > 0 && clean[len - 1] == '/')
		clean[--len] = '\0';
	if (len == 0 || len > 40 || strstr(clean, "..") != NULL ||
	    strstr(clean, "./") != NULL || strcmp(clean, ".") == 0)
		return;
	/* Only below the root or a directory already believed in. */
	if (strchr(clean, '/') != NULL) {
		bool parent = false;

		len = (size_t)(strrchr(clean, '/') - clean);
		for (unsigned i = 0; i < g->ndirs; i++)
			if (strlen(g->dirs[i]) == len &&
			    memcmp(g->dirs[i], clean, len) == 0)
				parent = true;
		if (!parent)
			return;
		len = strlen(clean);
	}
	for (unsigned i = 0; i < *n; i++)
		if (strcmp(list[i], clean) == 0)
			return;
	at = *n < GEN_KNOWN ? (*n)++ : diff_rand_below(r, GEN_KNOWN);
	memcpy(list[at], clean, len + 1);
}

static void gen_path_random(diff_rand *r, char *out, size_t size)
{
	unsigned k = diff_rand_below(r, 20);
	unsigned depth = k < 10 ? 1 : k < 17 ? 2 : 3;
	size_t at = 0;

	out[0] = '\0';
	bool escape = !(diff_gen_flags & DIFF_GEN_NO_ESCAPE);

	if (diff_rand_below(r, 6) == 0 && escape)
		at += (size_t)snprintf(out + at, size - at, "/");
	for (unsigned i = 0; i < depth; i++) {
		const char *name;

		k = diff_rand_below(r, 40);

		if (k == 0)
			name = ".";
		else if (k == 1 && escape)
			name = "..";
		else
			name = PICK(r, gen_names);
		at += (size_t)snprintf(out + at, size - at, "%s%s",
		                       i > 0 ? "/" : "", name);
	}
	if (diff_rand_below(r, 10) == 0)
		snprintf(out + at, size - at, "/");
}

static void gen_path(diff_rand *r, const gen_state *g, char *out, size_t size)
{
	unsigned k = diff_rand_below(r, 10);

	if (k < 5 && g->ndirs > 0) {
		/* A name in a directory believed to exist. */
		snprintf(out, size, "%s/%s",
		         g->dirs[diff_rand_below(r, g->ndirs)],
		         PICK(r, gen_names));
		if (diff_rand_below(r, 12) == 0 &&
		    !(diff_gen_flags & DIFF_GEN_NO_ESCAPE))
			snprintf(out + strlen(out), size - strlen(out), "/..");
		else if (diff_rand_below(r, 12) == 0)
			snprintf(out + strlen(out), size - strlen(out), "/");
	} else if (k < 7 && g->nfiles > 0) {
		/* A file (or symlink) believed to exist. */
		snprintf(out, size, "%s",
		         g->files[diff_rand_below(r, g->nfiles)]);
		if (diff_rand_below(r, 15) == 0)
			snprintf(out + strlen(out), size - strlen(out), "/");
	} else if (k < 8 && g->ndirs > 0) {
		snprintf(out, size, "%s",
		         g->dirs[diff_rand_below(r, g->ndirs)]);
	} else {
		gen_path_random(r, out, size);
	}
}

static void gen_target(diff_rand *r, const gen_state *g, char *out, size_t size)
{
	unsigned k = diff_rand_below(r, 8);

	bool escape = !(diff_gen_flags & DIFF_GEN_NO_ESCAPE);

	if (!escape && k < 3)
		k = 4;
	switch (k) {
	case 0: /* absolute: the VFS root / the oracle's root */
		out[0] = '/';
		gen_path(r, g, out + 1, size - 1);
		if (out[1] == '/')
			memmove(out + 1, out + 2, strlen(out + 2) + 1);
		break;
	case 1:
		snprintf(out, size, "..");
		break;
	case 2: {
		char p[DIFF_PATH];

		gen_path(r, g, p, sizeof p);
		snprintf(out, size, "../%.70s", p[0] == '/' ? p + 1 : p);
		break;
	}
	case 3:
		if (diff_rand_below(r, 4) == 0 || !escape) {
			out[0] = '\0'; /* ENOENT */
			break;
		}
		snprintf(out, size, "/");
		break;
	default:
		gen_path(r, g, out, size);
		if (out[0] == '/')
			memmove(out, out + 1, strlen(out));
		break;
	}
}

static int64_t gen_offset(diff_rand *r)
{
	switch (diff_rand_below(r, 8)) {
	case 0:
		return diff_rand_below(r, 10000);
	case 1:
		/* Next to a listed offset. */
		return PICK(r, diff_offsets) + diff_rand_below(r, 5);
	default:
		return PICK(r, diff_offsets);
	}
}

static uint32_t gen_len(diff_rand *r)
{
	if (diff_rand_below(r, 5) == 0)
		return diff_rand_below(r, 9000);
	return PICK(r, gen_lens);
}

static const int gen_accmodes[] = {O_RDONLY, O_WRONLY, O_RDWR, O_RDWR};
static const int gen_oflags[] = {O_CREAT,  O_EXCL,      O_TRUNC,
                                 O_APPEND, O_DIRECTORY, O_NOFOLLOW};
static const uint32_t gen_modes[] = {0644, 0600,  0755,  0700,  0444,
                                     0,    04755, 02755, 01777, 0777};

static void gen_time(diff_rand *r, struct timespec *ts)
{
	unsigned k = diff_rand_below(r, 10);

	/* Explicit times lie in 2001-2002, long before any "now", so the
	 * comparison can tell them from times the filesystem set itself. */
	ts->tv_sec = 1000000000 + (time_t)diff_rand_below(r, 30000000);
	ts->tv_nsec = (long)diff_rand_below(r, 1000000000);
	if (k == 0)
		ts->tv_nsec = UTIME_OMIT;
	else if (k == 1)
		ts->tv_nsec = UTIME_NOW;
}

/* Slots the sequence has opened so far: descriptor operations mostly go
 * to one of them. */
static int gen_slot(diff_rand *r, unsigned opened)
{
	int s = (int)diff_rand_below(r, DIFF_SLOTS);

	if (opened != 0 && diff_rand_below(r, 8) != 0)
		while (!(opened & (1u << s)))
			s = (s + 1) % DIFF_SLOTS;
	return s;
}

static void gen_one(diff_rand *r, diff_op *op, gen_state *g)
{
	unsigned total = 0, pick;
	diff_code c = OP_OPEN;

	memset(op, 0, sizeof *op);
	for (unsigned i = 0; i < OP_NCODES; i++)
		total += gen_weight[i];
	pick = diff_rand_below(r, total);
	for (unsigned i = 0; i < OP_NCODES; i++) {
		if (pick < gen_weight[i]) {
			c = (diff_code)i;
			break;
		}
		pick -= gen_weight[i];
	}
	op->code = c;
	op->slot = c == OP_OPEN ? (int)diff_rand_below(r, DIFF_SLOTS)
	                        : gen_slot(r, g->opened);
	if (c == OP_OPEN)
		g->opened |= 1u << op->slot;
	else if (c == OP_CLOSE)
		g->opened &= ~(1u << op->slot);
	op->fill = diff_rand_below(r, 0xffffffffu) + 1;
	gen_path(r, g, op->path, sizeof op->path);
	switch (c) {
	case OP_OPEN: {
		op->flags = PICK(r, gen_accmodes);
		/* Percent chance of each of gen_oflags. */
		static const unsigned pct[] = {70, 15, 20, 20, 10, 15};

		for (unsigned i = 0; i < 6; i++)
			if (diff_rand_below(r, 100) < pct[i])
				op->flags |= gen_oflags[i];
		op->mode = PICK(r, gen_modes);
		break;
	}
	case OP_READ:
	case OP_WRITE:
		op->len = gen_len(r);
		break;
	case OP_PREAD:
	case OP_PWRITE:
		op->len = gen_len(r);
		op->off = diff_rand_below(r, 40) == 0 ? -1 : gen_offset(r);
		break;
	case OP_LSEEK: {
		static const int whences[] = {SEEK_SET, SEEK_CUR, SEEK_END};

		op->flags = PICK(r, whences);
		op->off = gen_offset(r);
		if (diff_rand_below(r, 4) == 0)
			op->off = -op->off;
		break;
	}
	case OP_FTRUNCATE:
	case OP_TRUNCATE:
		op->off = diff_rand_below(r, 30) == 0 ? -1 : gen_offset(r);
		break;
	case OP_MKDIR:
	case OP_CHMOD:
	case OP_FCHMOD:
		op->mode = PICK(r, gen_modes);
		if (c != OP_MKDIR && diff_rand_below(r, 5) == 0)
			op->mode = 07777;
		break;
	case OP_RENAME:
	case OP_LINK: {
		unsigned k = diff_rand_below(r, 10);

		if (k == 0) {
			/* Onto itself. */
			memcpy(op->path2, op->path, sizeof op->path2);
		} else if (k == 1) {
			/* Into its own subtree. */
			snprintf(op->path2, sizeof op->path2, "%.60s/%s",
			         op->path, PICK(r, gen_names));
		} else {
			gen_path(r, g, op->path2, sizeof op->path2);
		}
		if (c == OP_RENAME) {
			static const int rflags[] = {0, 0, 0, 1, 2, 3};

			op->flags = PICK(r, rflags);
		}
		break;
	}
	case OP_SYMLINK:
		gen_target(r, g, op->path2, sizeof op->path2);
		break;
	case OP_READLINK:
		/* Now and then a buffer too small for the target. */
		if (diff_rand_below(r, 4) == 0)
			op->len = 1 + diff_rand_below(r, 6);
		break;
	case OP_UTIMENS:
	case OP_FUTIMENS:
		op->times_null = diff_rand_below(r, 10) == 0;
		gen_time(r, &op->times[0]);
		gen_time(r, &op->times[1]);
		if (c == OP_UTIMENS && diff_rand_below(r, 3) == 0)
			op->flags = AT_SYMLINK_NOFOLLOW;
		break;
	default:
		break;
	}
}

size_t diff_gen(diff_rand *r, diff_op *ops, size_t n)
{
	size_t i;
	gen_state *g = calloc(1, sizeof *g);

	if (g == NULL)
		return 0;
	for (i = 0; i < n && !diff_rand_done(r); i++) {
		const diff_op *op = &ops[i];

		gen_one(r, &ops[i], g);
		if (op->code == OP_MKDIR)
			gen_remember(r, g, g->dirs, &g->ndirs, op->path);
		else if ((op->code == OP_OPEN && (op->flags & O_CREAT)) ||
		         op->code == OP_SYMLINK)
			gen_remember(r, g, g->files, &g->nfiles, op->path);
		else if (op->code == OP_LINK || op->code == OP_RENAME)
			gen_remember(r, g, g->files, &g->nfiles, op->path2);
	}
	free(g);
	return i;
}
