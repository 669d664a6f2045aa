/*
 * Path and name checks, pure and bounded.
 *
 * These run before any lookup, so a hostile path is refused whole before
 * the walk touches a store: one pass over at most VFS_PATH_MAX bytes.
 * Splitting into components is done by the walk itself (walk.c), which
 * needs to interleave it with symlink expansion.
 */
#include "core_int.h"

#include <errno.h>
#include <string.h>

/* One pass: total length and every component's length. */
static int path_scan(const char *path, size_t len)
{
	size_t comp = 0;

	if (len == 0)
		return -ENOENT;
	if (len >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < len; i++) {
		if (path[i] == '/') {
			comp = 0;
		} else if (++comp > VFS_NAME_MAX) {
			return -ENAMETOOLONG;
		}
	}
	return 0;
}

int vfs__path_check(const char *path)
{
	if (path == NULL)
		return -EFAULT;
	/* Never read past VFS_PATH_MAX bytes looking for the NUL. */
	return path_scan(path, strnlen(path, VFS_PATH_MAX));
}

VFS_EXTERN int vfs_path_check(const char *path, size_t len)
{
	if (path == NULL)
		return len == 0 ? -ENOENT : -EFAULT;
	if (memchr(path, '\0', len) != NULL)
		return -EINVAL;
	return path_scan(path, len);
}

int vfs__name_check(const char *name)
{
	size_t len;

	if (name == NULL)
		return -EFAULT;
	len = strnlen(name, VFS_NAME_MAX + 1);
	if (len > VFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 0 || memchr(name, '/', len) != NULL)
		return -EINVAL;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return -EINVAL;
	return 0;
}
