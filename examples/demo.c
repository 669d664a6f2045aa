/*
 * vfs-demo: build a small tree in a memory store and print it.
 *
 * Shows the path API end to end: mounts (a memory root plus a second
 * memory store at /scratch), directories, files, a symlink resolved
 * inside the VFS, and a recursive listing with vfs_readdir.
 */
#include <vfs/vfs.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int check(int rc, const char *what)
{
	if (rc < 0)
		fprintf(stderr, "vfs-demo: %s: %s\n", what, vfs_strerror(rc));
	return rc;
}

static int put(vfs *v, const char *path, const char *text)
{
	int fd = vfs_open(v, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int64_t n;

	if (check(fd, path) < 0)
		return fd;
	n = vfs_write(v, fd, text, strlen(text));
	vfs_close(v, fd);
	return check((int)n, path);
}

static void tree(vfs *v, const char *path, int depth)
{
	vfs_dirent e;
	int fd = vfs_opendir(v, path);

	if (check(fd, path) < 0)
		return;
	while (vfs_readdir(v, fd, &e) == 1) {
		char child[4096];
		vfs_attr a;

		if (strcmp(e.name, ".") == 0 || strcmp(e.name, "..") == 0)
			continue;
		snprintf(child, sizeof(child), "%s/%s",
		         strcmp(path, "/") == 0 ? "" : path, e.name);
		if (vfs_lstat(v, child, &a) < 0)
			continue;
		printf("%*s%s", depth * 2, "", e.name);
		if (S_ISDIR(a.mode)) {
			printf("/\n");
			tree(v, child, depth + 1);
		} else if (S_ISLNK(a.mode)) {
			char target[4096];
			int n = vfs_readlink(v, child, target,
			                     sizeof(target) - 1);

			printf(" -> %.*s\n", n > 0 ? n : 0, target);
		} else {
			printf("  (%lld bytes)\n", (long long)a.size);
		}
	}
	vfs_close(v, fd);
}

int main(void)
{
	char err[256], buf[64] = {0};
	vfs *v;
	int fd;

	if (check(vfs_new(&v, NULL), "vfs_new") < 0)
		return 1;
	if (vfs_mount_spec(v, "/", "memory,size=64M", err, sizeof(err)) < 0 ||
	    vfs_mount_spec(v, "/scratch", "memory", err, sizeof(err)) < 0) {
		fprintf(stderr, "vfs-demo: %s\n", err);
		return 1;
	}
	check(vfs_mkdir(v, "/etc", 0755), "/etc");
	check(vfs_mkdir(v, "/home", 0755), "/home");
	check(vfs_mkdir(v, "/home/user", 0755), "/home/user");
	put(v, "/etc/motd", "Welcome to libvfs.\n");
	put(v, "/home/user/notes.txt", "a file in a memory store\n");
	put(v, "/scratch/tmp.txt", "a file in a second store\n");
	/* An absolute target starts at the VFS root, never the host's. */
	check(vfs_symlink(v, "/etc/motd", "/home/user/motd"), "symlink");

	fd = vfs_open(v, "/home/user/motd", O_RDONLY, 0);
	if (check(fd, "/home/user/motd") >= 0) {
		vfs_read(v, fd, buf, sizeof(buf) - 1);
		vfs_close(v, fd);
		printf("/home/user/motd says: %s", buf);
	}
	printf("/\n");
	tree(v, "/", 1);
	vfs_free(v);
	return 0;
}
