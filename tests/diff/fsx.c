/*
 * tests/diff/fsx.c: a data-integrity exerciser in the style of fsx.
 *
 * One file, "/f", and an in-memory model of its bytes. Writes at random
 * offsets and sizes (through pwrite, through lseek + write, and appends
 * through a second O_APPEND descriptor), truncates up and down (through
 * the descriptor and the path), extensions to 2^40 and back, closes and
 * reopens, and reads at random offsets and sizes, each read compared with
 * the model byte for byte, and the size checked with fstat as it goes.
 * It runs on any diff_target, so on every store through the library and
 * through a vfsmount mount.
 */
#include "diff.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define FSX_MAX   (3 * 1024 * 1024) /* model size limit */
#define FSX_FAR   ((int64_t)1 << 40)
#define FSX_TRAIL 24 /* operations shown on failure */

typedef struct fsx {
	diff_target *t;
	diff_rand r;
	unsigned char *model;
	int64_t size;
	diff_op trail[FSX_TRAIL];
	size_t nops;
	FILE *log;
	unsigned char *expect;
} fsx;

static int fsx_fail(fsx *x, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int fsx_fail(fsx *x, const char *fmt, ...)
{
	va_list ap;

	fprintf(x->log, "fsx on %s failed at operation %zu: ", x->t->name,
	        x->nops);
	va_start(ap, fmt);
	vfprintf(x->log, fmt, ap);
	va_end(ap);
	fprintf(x->log, "\nthe last operations (oldest first):\n");
	for (size_t i = x->nops > FSX_TRAIL ? x->nops - FSX_TRAIL : 0;
	     i < x->nops; i++) {
		fprintf(x->log, "  %zu: ", i);
		diff_print_op(x->log, &x->trail[i % FSX_TRAIL]);
		fputc('\n', x->log);
	}
	return -1;
}

static void fsx_exec(fsx *x, const diff_op *op, diff_res *res)
{
	x->trail[x->nops % FSX_TRAIL] = *op;
	x->nops++;
	x->t->exec(x->t, op, res);
}

static int64_t fsx_offset(fsx *x)
{
	switch (diff_rand_below(&x->r, 6)) {
	case 0: /* at or near the end */
		return x->size + (int64_t)diff_rand_below(&x->r, 9000) - 4500;
	case 1: /* a listed boundary, give or take a little */
		return diff_offsets[diff_rand_below(&x->r, 17)] +
		       (int64_t)diff_rand_below(&x->r, 5) - 2;
	default:
		return diff_rand_below(&x->r, FSX_MAX);
	}
}

static uint32_t fsx_len(fsx *x)
{
	return diff_rand_below(&x->r, 4) == 0
	               ? 1 + diff_rand_below(&x->r, DIFF_IO_MAX)
	               : 1 + diff_rand_below(&x->r, 5000);
}

/* Apply a write of op->len bytes of op->fill at off to the model. */
static void fsx_model_write(fsx *x, int64_t off, const diff_op *op)
{
	/* A write past the end leaves a hole of zeros. */
	if (off > x->size)
		memset(x->model + x->size, 0, (size_t)(off - x->size));
	diff_fill(x->model + off, op->len, op->fill);
	if (off + op->len > x->size)
		x->size = off + op->len;
}

static void fsx_model_truncate(fsx *x, int64_t size)
{
	if (size > x->size)
		memset(x->model + x->size, 0, (size_t)(size - x->size));
	x->size = size;
}

static int fsx_check_read(fsx *x, int64_t off, uint32_t len)
{
	diff_op op;
	diff_res res;
	int64_t want;

	memset(&op, 0, sizeof op);
	op.code = OP_PREAD;
	op.off = off;
	op.len = len;
	fsx_exec(x, &op, &res);
	want = off >= x->size        ? 0
	       : off + len > x->size ? x->size - off
	                             : (int64_t)len;
	if (res.rc != want)
		return fsx_fail(x, "pread returned %" PRId64 ", model %" PRId64,
		                res.rc, want);
	if (want > 0 && memcmp(res.data, x->model + off, (size_t)want) != 0) {
		int64_t i = 0;

		while (res.data[i] == x->model[off + i])
			i++;
		return fsx_fail(x,
		                "data differs at file offset %" PRId64
		                " (byte %" PRId64 " of the read)",
		                off + i, i);
	}
	return 0;
}

static int fsx_check_size(fsx *x)
{
	diff_op op;
	diff_res res;

	memset(&op, 0, sizeof op);
	op.code = OP_FSTAT;
	fsx_exec(x, &op, &res);
	if (res.rc != 0)
		return fsx_fail(x, "fstat returned %" PRId64, res.rc);
	if (res.attr.size != x->size)
		return fsx_fail(x, "size %" PRId64 ", model %" PRId64,
		                res.attr.size, x->size);
	return 0;
}

static int fsx_expect(fsx *x, const diff_res *res, int64_t want)
{
	if (res->rc != want)
		return fsx_fail(x, "returned %" PRId64 ", expected %" PRId64,
		                res->rc, want);
	return 0;
}

static int fsx_step(fsx *x)
{
	diff_op op;
	diff_res res;
	unsigned k = diff_rand_below(&x->r, 100);
	int64_t off;

	memset(&op, 0, sizeof op);
	op.fill = diff_rand_below(&x->r, 0xffffffffu) + 1;
	if (k < 30) {
		op.code = OP_PWRITE;
		op.len = fsx_len(x);
		off = fsx_offset(x);
		if (off < 0)
			off = 0;
		if (off + op.len > FSX_MAX)
			off = FSX_MAX - op.len;
		op.off = off;
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, op.len) < 0)
			return -1;
		fsx_model_write(x, off, &op);
	} else if (k < 40) {
		op.code = OP_LSEEK;
		op.flags = SEEK_SET;
		op.len = fsx_len(x);
		off = fsx_offset(x);
		if (off < 0)
			off = 0;
		if (off + op.len > FSX_MAX)
			off = FSX_MAX - op.len;
		op.off = off;
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, off) < 0)
			return -1;
		op.code = OP_WRITE;
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, op.len) < 0)
			return -1;
		fsx_model_write(x, off, &op);
	} else if (k < 45) {
		/* Append through a second descriptor. */
		op.code = OP_OPEN;
		op.slot = 1;
		op.flags = O_WRONLY | O_APPEND;
		snprintf(op.path, sizeof op.path, "f");
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, 0) < 0)
			return -1;
		op.code = OP_WRITE;
		op.len = fsx_len(x);
		if (x->size + op.len > FSX_MAX)
			op.len = 1;
		if (x->size + op.len <= FSX_MAX) {
			fsx_exec(x, &op, &res);
			if (fsx_expect(x, &res, op.len) < 0)
				return -1;
			fsx_model_write(x, x->size, &op);
		}
		op.code = OP_CLOSE;
		fsx_exec(x, &op, &res);
	} else if (k < 55) {
		op.code = diff_rand_below(&x->r, 3) == 0 ? OP_TRUNCATE
		                                         : OP_FTRUNCATE;
		snprintf(op.path, sizeof op.path, "f");
		off = diff_rand_below(&x->r, 2) == 0
		              ? (int64_t)diff_rand_below(&x->r, FSX_MAX)
		              : fsx_offset(x);
		op.off = off < 0 ? 0 : off > FSX_MAX ? FSX_MAX : off;
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, 0) < 0)
			return -1;
		fsx_model_truncate(x, op.off);
	} else if (k < 58) {
		/* Far beyond the end and back: the hole must read as zeros
		 * and the data below the old size must survive. */
		int64_t keep = x->size;

		op.code = OP_FTRUNCATE;
		op.off = FSX_FAR;
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, 0) < 0)
			return -1;
		op.code = OP_PREAD;
		op.off = FSX_FAR - 100;
		op.len = 200;
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, 100) < 0)
			return -1;
		for (int i = 0; i < 100; i++)
			if (res.data[i] != 0)
				return fsx_fail(x,
				                "byte %" PRId64
				                " of the hole is %" PRId64,
				                FSX_FAR - 100 + i,
				                (int64_t)res.data[i]);
		if (keep > 0) {
			/* Within the old size: the file is 2^40 long now. */
			int64_t at = diff_rand_below(&x->r, (uint32_t)keep);
			uint32_t len = fsx_len(x);

			if (at + len > keep)
				len = (uint32_t)(keep - at);
			if (fsx_check_read(x, at, len) < 0)
				return -1;
		}
		op.code = OP_FTRUNCATE;
		op.off = keep;
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, 0) < 0)
			return -1;
	} else if (k < 61) {
		op.code = OP_CLOSE;
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, 0) < 0)
			return -1;
		op.code = OP_OPEN;
		op.flags = O_RDWR;
		snprintf(op.path, sizeof op.path, "f");
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, 0) < 0)
			return -1;
	} else if (k < 63) {
		op.code = OP_FSYNC;
		fsx_exec(x, &op, &res);
		if (fsx_expect(x, &res, 0) < 0)
			return -1;
	} else {
		off = fsx_offset(x);
		if (off < 0)
			off = 0;
		return fsx_check_read(x, off, fsx_len(x));
	}
	if (diff_rand_below(&x->r, 4) == 0)
		return fsx_check_size(x);
	return 0;
}

int diff_fsx(diff_target *t, uint64_t seed, size_t nops, FILE *log)
{
	fsx x;
	diff_op op;
	diff_res res;
	int rc = -1;

	memset(&x, 0, sizeof x);
	x.t = t;
	x.log = log;
	diff_rand_seed(&x.r, seed ^ 0xf5f5f5f5u);
	x.model = calloc(1, FSX_MAX + DIFF_IO_MAX);
	if (x.model == NULL)
		return -1;
	if (t->reset(t) < 0) {
		fprintf(log, "fsx: reset of %s failed\n", t->name);
		goto out;
	}
	memset(&op, 0, sizeof op);
	op.code = OP_OPEN;
	op.flags = O_RDWR | O_CREAT | O_TRUNC;
	op.mode = 0644;
	snprintf(op.path, sizeof op.path, "f");
	fsx_exec(&x, &op, &res);
	if (fsx_expect(&x, &res, 0) < 0)
		goto out;
	while (x.nops < nops)
		if (fsx_step(&x) < 0)
			goto out;
	/* The whole file at the end. */
	for (int64_t off = 0; off < x.size; off += DIFF_IO_MAX)
		if (fsx_check_read(&x, off, DIFF_IO_MAX) < 0)
			goto out;
	if (fsx_check_size(&x) < 0)
		goto out;
	rc = 0;
out:
	t->finish(t);
	free(x.model);
	return rc;
}
