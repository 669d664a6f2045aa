/*
 * Fuzz target: path parsing and the walk over a small tree with symlinks
 * (loops, chains, absolute and relative targets, ".." across a mount).
 *
 * The input is a script: each operation is one opcode byte followed by a
 * NUL-terminated path (and, for two-path operations, a second one). After
 * every call the target checks what must always hold: results are 0 or a
 * negative errno, a canonical path has no ".", "..", "//" or trailing
 * slash, and resolving it again gives the same node.
 *
 * Built as a libFuzzer target with clang (-Dfuzz=true); otherwise
 * fuzz_driver.c runs it over generated inputs as an ordinary test.
 */
#include <vfs/vfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vfs *tree_new(void)
{
	char err[128];
	vfs *v;
	int fd;

	if (vfs_new(&v, NULL) < 0)
		abort();
	if (vfs_mount_spec(v, "/", "memory,size=1M,inodes=200", err,
	                   sizeof(err)) < 0 ||
	    vfs_mount_spec(v, "/m/n", "memory,size=1M,inodes=50", err,
	                   sizeof(err)) < 0)
		abort();
	vfs_mkdir(v, "/a", 0755);
	vfs_mkdir(v, "/a/b", 0755);
	vfs_mkdir(v, "/a/b/c", 0755);
	fd = vfs_open(v, "/a/f", O_CREAT | O_WRONLY, 0644);
	vfs_write(v, fd, "data", 4);
	vfs_close(v, fd);
	vfs_symlink(v, "/a", "/l1");
	vfs_symlink(v, "../..", "/a/b/up");
	vfs_symlink(v, "/a/b/c", "/a/abs");
	vfs_symlink(v, "loop2", "/loop1");
	vfs_symlink(v, "loop1", "/loop2");
	vfs_symlink(v, "/m/n/..", "/a/b/c/mnt");
	vfs_symlink(v, "f/", "/a/slash");
	vfs_symlink(v, "nowhere", "/a/dangling");
	vfs_mkdir(v, "/m/n/d", 0755);
	return v;
}

static void check_rc(int64_t rc)
{
	/* Every call returns a count or a negative errno, nothing else. */
	if (rc < -4095)
		abort();
}

static void check_canonical(vfs *v, const char *path)
{
	char buf[VFS_PATH_MAX];
	vfs_attr a, b;
	int n = vfs_realpath(v, path, buf, sizeof(buf));

	check_rc(n);
	if (n < 0)
		return;
	if (buf[0] != '/' || (size_t)n != strlen(buf) || strstr(buf, "//") ||
	    strstr(buf, "/./") || strstr(buf, "/../") ||
	    (n > 1 && buf[n - 1] == '/'))
		abort();
	if (n >= 2 && strcmp(buf + n - 2, "/.") == 0)
		abort();
	if (n >= 3 && strcmp(buf + n - 3, "/..") == 0)
		abort();
	if (vfs_stat(v, path, &a) != 0 || vfs_stat(v, buf, &b) != 0)
		abort();
	if (a.ino != b.ino || a.dev != b.dev)
		abort();
}

/* Take one NUL-terminated string from the input (at most PATH_MAX + 64
 * bytes, so over-long paths are tried too). */
static const char *take(const uint8_t **p, const uint8_t *end, char *buf,
                        size_t cap)
{
	size_t n = 0;

	while (*p < end && **p != 0 && n + 1 < cap)
		buf[n++] = (char)*(*p)++;
	if (*p < end)
		(*p)++;
	buf[n] = '\0';
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char p1[VFS_PATH_MAX + 64], p2[VFS_PATH_MAX + 64];
	const uint8_t *p = data, *end = data + size;
	vfs *v = tree_new();
	char buf[512];
	vfs_attr a;
	int ops = 0;

	while (p < end && ops++ < 64) {
		uint8_t op = *p++;
		int64_t rc = 0;
		int fd;

		take(&p, end, p1, sizeof(p1));
		switch (op % 12) {
		case 0:
			rc = vfs_stat(v, p1, &a);
			break;
		case 1:
			rc = vfs_lstat(v, p1, &a);
			break;
		case 2:
			check_canonical(v, p1);
			break;
		case 3:
			fd = vfs_open(v, p1, O_RDONLY, 0);
			check_rc(fd);
			if (fd >= 0) {
				check_rc(vfs_read(v, fd, buf, sizeof(buf)));
				vfs_close(v, fd);
			}
			break;
		case 4:
			fd = vfs_open(v, p1, O_CREAT | O_RDWR, 0644);
			check_rc(fd);
			if (fd >= 0) {
				check_rc(vfs_write(v, fd, "x", 1));
				vfs_close(v, fd);
			}
			break;
		case 5:
			rc = vfs_mkdir(v, p1, 0755);
			break;
		case 6:
			rc = vfs_unlink(v, p1);
			break;
		case 7:
			rc = vfs_rmdir(v, p1);
			break;
		case 8:
			take(&p, end, p2, sizeof(p2));
			rc = vfs_rename(v, p1, p2, op >> 6);
			break;
		case 9:
			take(&p, end, p2, sizeof(p2));
			rc = vfs_symlink(v, p1, p2);
			break;
		case 10:
			rc = vfs_readlink(v, p1, buf, sizeof(buf));
			break;
		case 11:
			take(&p, end, p2, sizeof(p2));
			rc = vfs_link(v, p1, p2);
			break;
		}
		check_rc(rc);
		if (op & 0x20)
			check_canonical(v, p1);
	}
	vfs_free(v);
	return 0;
}
