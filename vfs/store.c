/*
 * Store handles and SPEC strings.
 *
 * vfs_store_new() wraps any store's vtable (built-in or third party) in a
 * handle the mount table accepts; the built-in kinds are reached from a
 * SPEC ("memory", "disk:DIR,ro", "sqlite:FILE,key=value") through a static
 * table, so there is no global registry to lock. The file ends with the
 * small shared helpers stores use for their options.
 */
#include "core_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Members every store must provide, checked once at vfs_store_new(). */
static bool store_ops_complete(const vfs_backend_ops *o)
{
	return o->destroy && o->root && o->lookup && o->forget && o->getattr &&
	       o->setattr && o->mknod && o->link && o->unlink && o->rmdir &&
	       o->rename && o->readlink && o->readdir && o->read && o->write &&
	       o->statfs;
}

VFS_EXTERN int vfs_store_new(vfs_store **out, const vfs_backend_ops *ops,
                             void *state, unsigned mount_flags)
{
	vfs_store *s;
	size_t n;

	if (out == NULL || ops == NULL || ops->version == 0 ||
	    ops->version > VFS_BACKEND_VERSION ||
	    ops->size < offsetof(vfs_backend_ops, destroy) ||
	    (mount_flags & ~VFS_MOUNT_RDONLY) != 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	/* A store built against an older header has a shorter table: copy
	 * what it has and leave newer members NULL. */
	n = ops->size < sizeof(s->ops) ? ops->size : sizeof(s->ops);
	memcpy(&s->ops, ops, n);
	if (!store_ops_complete(&s->ops)) {
		free(s);
		return -EINVAL;
	}
	s->state = state;
	s->mount_flags = mount_flags;
	*out = s;
	return 0;
}

VFS_EXTERN void vfs_store_free(vfs_store *s)
{
	if (s == NULL)
		return;
	s->ops.destroy(s->state);
	free(s);
}

int vfs__err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

struct timespec vfs__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

int vfs__parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mul = 1ull << 10;
		p++;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		p++;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		p++;
		break;
	case 't':
	case 'T':
		mul = 1ull << 40;
		p++;
		break;
	default:
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

#ifndef VFS_HAVE_DISK
int vfs__disk_open(vfs_store **out, const char *arg, const vfs__kv *kv,
                   size_t nkv, unsigned mount_flags, char *err, size_t errlen)
{
	return vfs__err(err, errlen, -EPROTONOSUPPORT,
	                "the disk store is not built into this library");
}
#endif

#ifndef VFS_HAVE_SQLITE
int vfs__sqlite_open(vfs_store **out, const char *arg, const vfs__kv *kv,
                     size_t nkv, unsigned mount_flags, char *err, size_t errlen)
{
	return vfs__err(err, errlen, -EPROTONOSUPPORT,
	                "the sqlite store is not built into this library");
}
#endif

static const struct {
	const char *kind;
	vfs__store_ctor open;
} store_kinds[] = {
        {"memory", vfs__memory_open},
        {"disk", vfs__disk_open},
        {"sqlite", vfs__sqlite_open},
};

#define SPEC_MAX      (2 * VFS_PATH_MAX)
#define SPEC_MAX_OPTS 32

/* Cut s at the next unescaped ',' (removing backslash escapes in place);
 * returns the rest after the comma, or NULL at the end. */
static char *spec_cut(char *s)
{
	char *w = s;

	for (char *r = s; *r != '\0'; r++) {
		if (*r == '\\' && r[1] != '\0') {
			*w++ = *++r;
		} else if (*r == ',') {
			*w = '\0';
			return r + 1;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return NULL;
}

VFS_EXTERN int vfs_store_open(vfs_store **out, const char *spec, char *err,
                              size_t errlen)
{
	char *buf, *rest, *arg;
	vfs__kv kv[SPEC_MAX_OPTS];
	size_t nkv = 0, len;
	unsigned flags = 0;
	int rc = -EINVAL;

	if (out == NULL || spec == NULL)
		return vfs__err(err, errlen, -EINVAL, "no store spec");
	len = strnlen(spec, SPEC_MAX + 1);
	if (len == 0)
		return vfs__err(err, errlen, -EINVAL, "empty store spec");
	if (len > SPEC_MAX)
		return vfs__err(err, errlen, -ENAMETOOLONG,
		                "store spec too long");
	buf = malloc(len + 1);
	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf, spec, len + 1);

	rest = spec_cut(buf);
	arg = strchr(buf, ':');
	if (arg != NULL)
		*arg++ = '\0';
	while (rest != NULL) {
		char *opt = rest, *eq;

		rest = spec_cut(opt);
		if (*opt == '\0') {
			rc = vfs__err(err, errlen, -EINVAL,
			              "empty option in store spec");
			goto out;
		}
		if (strcmp(opt, "ro") == 0) {
			flags |= VFS_MOUNT_RDONLY;
			continue;
		}
		if (strcmp(opt, "rw") == 0) {
			flags &= ~VFS_MOUNT_RDONLY;
			continue;
		}
		if (nkv == SPEC_MAX_OPTS) {
			rc = vfs__err(err, errlen, -EINVAL,
			              "too many options in store spec");
			goto out;
		}
		eq = strchr(opt, '=');
		if (eq != NULL)
			*eq++ = '\0';
		kv[nkv].key = opt;
		kv[nkv].val = eq != NULL ? eq : "";
		nkv++;
	}
	for (size_t i = 0; i < sizeof(store_kinds) / sizeof(store_kinds[0]);
	     i++) {
		if (strcmp(buf, store_kinds[i].kind) == 0) {
			rc = store_kinds[i].open(out, arg, kv, nkv, flags, err,
			                         errlen);
			goto out;
		}
	}
	rc = vfs__err(err, errlen, -EINVAL, "unknown store kind \"%s\"", buf);
out:
	free(buf);
	return rc;
}

VFS_EXTERN int vfs_mount_spec(vfs *v, const char *path, const char *spec,
                              char *err, size_t errlen)
{
	vfs_store *s;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rc = vfs_store_open(&s, spec, err, errlen);
	if (rc < 0)
		return rc;
	rc = vfs_mount_add(v, path, s, 0);
	if (rc < 0) {
		vfs__err(err, errlen, rc, "cannot mount at %s: %s", path,
		         vfs_strerror(rc));
		vfs_store_free(s);
	}
	return rc;
}
