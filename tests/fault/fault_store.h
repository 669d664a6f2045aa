/*
 * A fault-injection store: wraps another store and fails one chosen call.
 *
 * The wrapper forwards every vtable member to the inner store, counting
 * the calls that can fail. When armed with (n, err, members), the n-th
 * counted call among the chosen members returns err without reaching the
 * inner store; every later call is forwarded again. Members that cannot
 * fail (destroy, forget, release) are forwarded and never counted.
 */
#ifndef VFS_TESTS_FAULT_STORE_H
#define VFS_TESTS_FAULT_STORE_H

#include "vfs/vfs_int.h"

#include <stdbool.h>
#include <stdint.h>

/** Bits naming vtable members, for fault_store_arm()'s members mask. */
enum {
	FAULT_ROOT = 1u << 0,
	FAULT_LOOKUP = 1u << 1,
	FAULT_GETATTR = 1u << 2,
	FAULT_SETATTR = 1u << 3,
	FAULT_MKNOD = 1u << 4,
	FAULT_LINK = 1u << 5,
	FAULT_UNLINK = 1u << 6,
	FAULT_RMDIR = 1u << 7,
	FAULT_RENAME = 1u << 8,
	FAULT_READLINK = 1u << 9,
	FAULT_READDIR = 1u << 10,
	FAULT_OPEN = 1u << 11,
	FAULT_READ = 1u << 12,
	FAULT_WRITE = 1u << 13,
	FAULT_FSYNC = 1u << 14,
	FAULT_STATFS = 1u << 15,
	FAULT_SYNC = 1u << 16,
	FAULT_CREATE = 1u << 17,
	FAULT_ALL = (1u << 18) - 1,
};

typedef struct fault_store fault_store;

/**
 * Wrap inner. On success *out owns inner (destroying *out destroys it) and
 * *ctl stays valid until then. On failure the caller still owns inner.
 * @return 0, -ENOMEM, or vfs_store_new()'s error.
 */
int fault_store_new(vfs_store **out, fault_store **ctl, vfs_store *inner);

/** Fail the n-th (from 1) call of a member in members with -err (err is
 *  a positive or negative errno). Resets the call count and the hit flag. */
void fault_store_arm(fault_store *f, uint64_t n, int err, unsigned members);

/** Stop failing; counting goes on. */
void fault_store_disarm(fault_store *f);

/** Whether the armed fault was injected. */
bool fault_store_hit(fault_store *f);

/** Counted calls since the last arm. */
uint64_t fault_store_calls(fault_store *f);

/** Name of the member the fault was injected into ("" if none). */
const char *fault_store_hit_member(fault_store *f);

#endif /* VFS_TESTS_FAULT_STORE_H */
