/*
 * The walk: the one place where paths become nodes.
 *
 * All escape logic lives here. A path is taken one component at a time
 * from the VFS root; the walk keeps the chain of directories it passed (a
 * stack of nodes with their names), so that:
 *   - ".." pops one directory and never goes above the root, whatever
 *     store or mount it is in, and after a followed symlink goes to the
 *     parent of the link's target, as the kernel does;
 *   - a symlink's target is spliced in front of the rest of the path and
 *     walked the same way: an absolute target restarts at the VFS root,
 *     never the host's, and more than VFS_SYMLINK_MAX links give -ELOOP;
 *   - the canonical path (realpath) is simply the names on the stack.
 * Stores only ever see (directory node, one component) through
 * vfs__step(). Everything is bounded: the path text by VFS_PATH_MAX per
 * link, the stack by VFS_PATH_MAX / 2 entries.
 */
#include "core_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WALK_DEPTH_MAX (VFS_PATH_MAX / 2)

void vfs__walk_init(struct vfs_walk *w, struct vfs_ctx *c)
{
	memset(w, 0, sizeof(*w));
	w->c = c;
}

static void walk_pop(struct vfs_walk *w)
{
	struct vfs_frame *f = &w->stack[--w->depth];

	w->names_len = f->name_off;
	vfs__node_put(w->c->v, f->node);
}

void vfs__walk_done(struct vfs_walk *w)
{
	while (w->depth > 0)
		walk_pop(w);
	free(w->stack);
	free(w->names);
	free(w->buf);
	w->stack = NULL;
	w->names = NULL;
	w->buf = NULL;
}

/* Push a node (taking over its reference) with its name. */
static int walk_push(struct vfs_walk *w, vfs_node *n, const char *name,
                     size_t len)
{
	struct vfs_frame *f;

	if (w->depth == WALK_DEPTH_MAX) {
		vfs__node_put(w->c->v, n);
		return -ENAMETOOLONG;
	}
	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct vfs_frame *s = realloc(w->stack, cap * sizeof(*s));

		if (s == NULL) {
			vfs__node_put(w->c->v, n);
			return -ENOMEM;
		}
		w->stack = s;
		w->cap = cap;
	}
	if (w->names_len + len > w->names_cap) {
		size_t cap = w->names_cap ? w->names_cap : 256;
		char *s;

		while (cap < w->names_len + len)
			cap *= 2;
		s = realloc(w->names, cap);
		if (s == NULL) {
			vfs__node_put(w->c->v, n);
			return -ENOMEM;
		}
		w->names = s;
		w->names_cap = cap;
	}
	f = &w->stack[w->depth++];
	f->node = n;
	f->name_off = (uint32_t)w->names_len;
	f->name_len = (uint32_t)len;
	if (len > 0)
		memcpy(w->names + w->names_len, name, len);
	w->names_len += len;
	return 0;
}

static int walk_reset(struct vfs_walk *w)
{
	vfs_node *root;
	int rc;

	while (w->depth > 1)
		walk_pop(w);
	if (w->depth == 1)
		return 0;
	rc = vfs__root(w->c->v, &root);
	return rc < 0 ? rc : walk_push(w, root, "", 0);
}

/* Replace the text still to walk with link's target followed by rest, and
 * restart at the root for an absolute target. *p receives the new text. */
static int walk_splice_link(struct vfs_walk *w, vfs_node *link,
                            const char *rest, const char **p)
{
	vfs_store *s = link->mnt->store;
	size_t rest_len = strlen(rest);
	char *buf;
	int n;

	if (++w->links > VFS_SYMLINK_MAX)
		return -ELOOP;
	buf = malloc(VFS_PATH_MAX + rest_len + 1);
	if (buf == NULL)
		return -ENOMEM;
	n = s->ops.readlink(s->state, link->id, buf, VFS_PATH_MAX);
	if (n == 0)
		n = -ENOENT;
	else if (n >= VFS_PATH_MAX)
		n = -ENAMETOOLONG;
	else if (n > 0 && memchr(buf, '\0', (size_t)n) != NULL)
		n = -EIO; /* a damaged store: never let a NUL cut the target */
	if (n < 0) {
		free(buf);
		return n;
	}
	memcpy(buf + n, rest, rest_len + 1);
	free(w->buf);
	w->buf = buf;
	*p = buf;
	return buf[0] == '/' ? walk_reset(w) : 0;
}

static int walk_search_ok(struct vfs_walk *w, vfs_node *dir)
{
	vfs_attr a;
	int rc;

	if (!w->c->check)
		return 0;
	rc = vfs__node_getattr(w->c->v, dir, &a);
	return rc < 0 ? rc : vfs__permission(w->c, &a, VFS__MAY_EXEC);
}

static int walk_run(struct vfs_walk *w, const char *p, unsigned flags)
{
	vfs *v = w->c->v;

	for (;;) {
		char name[VFS_NAME_MAX + 1];
		const char *start, *rest;
		size_t len;
		bool last, trailing;
		vfs_node *top = vfs__walk_top(w), *child;
		vfs_attr attr;
		int rc;

		while (*p == '/')
			p++;
		if (*p == '\0') {
			/* No component at all: "/" (or a link to it). */
			if (flags & VFS__WALK_PARENT) {
				w->last_type = VFS__LAST_ROOT;
				w->last_len = 0;
				w->last[0] = '\0';
				w->trailing_slash = false;
			}
			return 0;
		}
		start = p;
		while (*p != '\0' && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (len > VFS_NAME_MAX)
			return -ENAMETOOLONG; /* only from a store's target */
		rest = p;
		trailing = *p == '/';
		while (*p == '/')
			p++;
		last = *p == '\0';
		if (!S_ISDIR(top->type))
			return -ENOTDIR;
		if (last && (flags & VFS__WALK_PARENT)) {
			memcpy(w->last, start, len);
			w->last[len] = '\0';
			w->last_len = len;
			w->trailing_slash = trailing;
			w->last_type = VFS__LAST_NORM;
			if (len == 1 && start[0] == '.')
				w->last_type = VFS__LAST_DOT;
			else if (len == 2 && start[0] == '.' && start[1] == '.')
				w->last_type = VFS__LAST_DOTDOT;
			return 0;
		}
		if (len == 1 && start[0] == '.')
			continue;
		if (len == 2 && start[0] == '.' && start[1] == '.') {
			if (w->depth > 1)
				walk_pop(w);
			continue;
		}
		rc = walk_search_ok(w, top);
		if (rc < 0)
			return rc;
		memcpy(name, start, len);
		name[len] = '\0';
		rc = vfs__step(v, top, name, &child, &attr);
		if (rc == -ENOENT && (flags & VFS__WALK_MISSING_OK)) {
			w->missing = start;
			return 0;
		}
		if (rc < 0)
			return rc;
		if (S_ISLNK(attr.mode) &&
		    (!last || trailing || !(flags & VFS__WALK_NOFOLLOW))) {
			rc = walk_splice_link(w, child, rest, &p);
			vfs__node_put(v, child);
			if (rc < 0)
				return rc;
			continue;
		}
		rc = walk_push(w, child, start, len);
		if (rc < 0)
			return rc;
		if (last)
			return trailing && !S_ISDIR(attr.mode) ? -ENOTDIR : 0;
	}
}

int vfs__walk(struct vfs_walk *w, const char *path, unsigned flags)
{
	int rc = vfs__path_check(path);

	if (rc < 0)
		return rc;
	rc = walk_reset(w);
	if (rc < 0)
		return rc;
	w->links = 0;
	w->missing = NULL;
	return walk_run(w, path, flags);
}

int vfs__walk_follow_last(struct vfs_walk *w, vfs_node *link, unsigned flags)
{
	const char *p;
	int rc = walk_splice_link(w, link, w->trailing_slash ? "/" : "", &p);

	return rc < 0 ? rc : walk_run(w, p, flags | VFS__WALK_PARENT);
}

uint64_t vfs__walk_parent_ino(struct vfs_walk *w)
{
	vfs_node *n = w->stack[w->depth > 1 ? w->depth - 2 : 0].node;
	vfs_attr a;

	return vfs__node_getattr(w->c->v, n, &a) == 0 ? a.ino : 0;
}

bool vfs__walk_holds(const struct vfs_walk *w, const vfs_node *node)
{
	for (size_t i = 0; i < w->depth; i++)
		if (w->stack[i].node == node)
			return true;
	return false;
}

int vfs__walk_path(const struct vfs_walk *w, char *buf, size_t size)
{
	size_t len = 0;

	for (size_t i = 1; i < w->depth; i++) {
		const struct vfs_frame *f = &w->stack[i];

		if (len + 1 + f->name_len >= size)
			return -ERANGE;
		buf[len++] = '/';
		memcpy(buf + len, w->names + f->name_off, f->name_len);
		len += f->name_len;
	}
	if (len == 0) {
		if (size < 2)
			return -ERANGE;
		buf[len++] = '/';
	}
	buf[len] = '\0';
	return (int)len;
}
