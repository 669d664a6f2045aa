/*
 * Internal hooks of the SQLite store (backends/sqlite.c) for its tests.
 * Never installed.
 */
#ifndef VFS_SQLITE_INT_H
#define VFS_SQLITE_INT_H

#include <stdint.h>

/**
 * Make the n-th SQLite call (sqlite3_step or sqlite3_prepare, counted from
 * now, ROLLBACK excepted) made by the store whose state is `state` (the
 * `state` member of its vfs_store) return the SQLite result code `rc`
 * instead of running. n = 0 disarms. Thread safety: takes the store lock.
 */
void vfs__sqlite_fail_after(void *state, long n, int rc);

/** Whether the armed fault has fired (n reached 0 since arming). */
int vfs__sqlite_fault_fired(void *state);

/** Data block size of the store (bytes). */
uint32_t vfs__sqlite_block_size(void *state);

#endif /* VFS_SQLITE_INT_H */
