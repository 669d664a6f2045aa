/*
 * Watches: the records each operation produces, compared with what
 * inotify reports for the same system calls on tmpfs (measured: a
 * non-recursive watch with IN_MODIFY|IN_ATTRIB|IN_CLOSE_WRITE|IN_MOVED_*|
 * IN_CREATE|IN_DELETE|IN_*_SELF). Every store must give the same records.
 * Events are collected with a timeout so that a store whose events arrive
 * asynchronously is judged by the same rules.
 */
#include "conf.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct conf_ev {
	int32_t wd;
	uint32_t mask;
	uint32_t cookie;
	char name[VFS_PATH_MAX];
} conf_ev;

#define CONF_MAX_EV 64

static vfs_watcher *conf_watcher(vfs *v, uint32_t max_events)
{
	vfs_watcher_options o;
	vfs_watcher *w = NULL;

	memset(&o, 0, sizeof o);
	o.version = VFS_WATCHER_OPTIONS_VERSION;
	o.max_events = max_events;
	assert_int_equal(vfs_watcher_new(v, &w, &o), 0);
	assert_non_null(w);
	return w;
}

/* Read what is pending now, appending to ev; returns the new count. */
static int conf_read_pending(vfs_watcher *w, conf_ev *ev, int n)
{
	static char buf[64 * 1024];
	int64_t got;

	while ((got = vfs_watcher_read(w, buf, sizeof buf)) > 0) {
		for (int64_t off = 0; off < got;) {
			vfs_event *e = (vfs_event *)(buf + off);
			assert_true(off + (int64_t)sizeof *e + e->len <= got);
			if (n < CONF_MAX_EV) {
				ev[n].wd = e->wd;
				ev[n].mask = e->mask;
				ev[n].cookie = e->cookie;
				assert_true(e->len < VFS_PATH_MAX);
				memcpy(ev[n].name, e->name, e->len);
				ev[n].name[e->len] = '\0';
			}
			n++;
			off += (int64_t)sizeof *e + e->len;
		}
	}
	assert_true(got == 0);
	return n;
}

/*
 * Collect records until `want` have arrived (waiting up to 2 s for stores
 * that deliver asynchronously), then a little longer to catch extras.
 */
static int conf_collect(vfs_watcher *w, conf_ev *ev, int want)
{
	int n = conf_read_pending(w, ev, 0);

	for (int waited = 0; n < want && waited < 2000; waited += 10) {
		struct pollfd p = {vfs_watcher_fd(w), POLLIN, 0};
		poll(&p, 1, 10);
		n = conf_read_pending(w, ev, n);
	}
	conf_sleep_ms(conf_is("disk") ? 50 : 0);
	return conf_read_pending(w, ev, n);
}

static const char *conf_mask_name(uint32_t m)
{
	switch (m & ~VFS_EV_ISDIR) {
	case VFS_EV_ACCESS:
		return "ACCESS";
	case VFS_EV_MODIFY:
		return "MODIFY";
	case VFS_EV_ATTRIB:
		return "ATTRIB";
	case VFS_EV_CLOSE_WRITE:
		return "CLOSE_WRITE";
	case VFS_EV_MOVED_FROM:
		return "MOVED_FROM";
	case VFS_EV_MOVED_TO:
		return "MOVED_TO";
	case VFS_EV_CREATE:
		return "CREATE";
	case VFS_EV_DELETE:
		return "DELETE";
	case VFS_EV_DELETE_SELF:
		return "DELETE_SELF";
	case VFS_EV_MOVE_SELF:
		return "MOVE_SELF";
	case VFS_EV_OVERFLOW:
		return "OVERFLOW";
	case VFS_EV_IGNORED:
		return "IGNORED";
	default:
		return "?";
	}
}

/*
 * Wait for `want` records and render them as "MASK[|ISDIR] name;..."
 * (wd and cookies are checked separately). The caller frees.
 */
static char *conf_events(vfs_watcher *w, int want, conf_ev *ev, int *count)
{
	static conf_ev local[CONF_MAX_EV];
	conf_ev *e = ev != NULL ? ev : local;
	int n = conf_collect(w, e, want);
	size_t cap = 64 + (size_t)n * 300;
	char *out = malloc(cap), *p = out;

	assert_non_null(out);
	*p = '\0';
	for (int i = 0; i < n && i < CONF_MAX_EV; i++) {
		p += snprintf(p, cap - (size_t)(p - out), "%s%s%s%s;",
		              conf_mask_name(e[i].mask),
		              (e[i].mask & VFS_EV_ISDIR) ? "|ISDIR" : "",
		              e[i].name[0] ? " " : "", e[i].name);
	}
	if (count != NULL) {
		*count = n;
	}
	return out;
}

#define assert_events(w, want, text)                                           \
	do {                                                                   \
		char *got_ = conf_events((w), (want), NULL, NULL);             \
		assert_string_equal(got_, (text));                             \
		free(got_);                                                    \
	} while (0)

static void test_watch_file_events(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_watcher *w;
	int wd, fd;

	conf_mkdir(v, "/w");
	w = conf_watcher(v, 0);
	wd = vfs_watch_add(w, "/w", VFS_EV_ALL, 0);
	assert_true(wd >= 1);
	fd = vfs_open(v, "/w/f", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_events(w, 1, "CREATE f;");
	assert_int_equal(vfs_write(v, fd, "x", 1), 1);
	assert_events(w, 1, "MODIFY f;");
	assert_int_equal(vfs_close(v, fd), 0);
	assert_events(w, 1, "CLOSE_WRITE f;");
	/* Opening and closing for reading reports nothing here. */
	fd = vfs_open(v, "/w/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_events(w, 0, "");
	assert_int_equal(vfs_chmod(v, "/w/f", 0600), 0);
	assert_events(w, 1, "ATTRIB f;");
	assert_int_equal(vfs_truncate(v, "/w/f", 10), 0);
	assert_events(w, 1, "MODIFY f;");
	assert_int_equal(vfs_utimens(v, "/w/f", NULL, 0), 0);
	assert_events(w, 1, "ATTRIB f;");
	assert_int_equal(vfs_link(v, "/w/f", "/w/h"), 0);
	assert_events(w, 1, "CREATE h;");
	assert_int_equal(vfs_unlink(v, "/w/h"), 0);
	assert_events(w, 1, "DELETE h;");
	conf_symlink(v, "f", "/w/s");
	assert_events(w, 1, "CREATE s;");
	assert_int_equal(vfs_mknod(v, "/w/p", S_IFIFO | 0644, 0), 0);
	assert_events(w, 1, "CREATE p;");
	fd = vfs_open(v, "/w/f", O_WRONLY | O_TRUNC, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_close(v, fd), 0);
	assert_events(w, 2, "MODIFY f;CLOSE_WRITE f;");
	assert_int_equal(vfs_unlink(v, "/w/f"), 0);
	assert_events(w, 1, "DELETE f;");
	/* Nothing for entries outside the watched directory. */
	conf_put(v, "/elsewhere", "x");
	assert_events(w, 0, "");
	vfs_watcher_free(w);
}

static void test_watch_identical_records_merge(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_watcher *w;
	int fd;

	conf_mkdir(v, "/w");
	conf_put(v, "/w/f", "");
	w = conf_watcher(v, 0);
	assert_true(vfs_watch_add(w, "/w", VFS_EV_ALL, 0) >= 1);
	fd = vfs_open(v, "/w/f", O_WRONLY, 0);
	assert_true(fd >= 0);
	/* inotify: 100 writes and a close gave one MODIFY, one CLOSE_WRITE. */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(vfs_write(v, fd, "x", 1), 1);
	}
	assert_int_equal(vfs_close(v, fd), 0);
	assert_events(w, 2, "MODIFY f;CLOSE_WRITE f;");
	vfs_watcher_free(w);
}

static void test_watch_directory_events_carry_isdir(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_watcher *w;

	conf_mkdir(v, "/w");
	w = conf_watcher(v, 0);
	assert_true(vfs_watch_add(w, "/w", VFS_EV_ALL, 0) >= 1);
	conf_mkdir(v, "/w/d");
	assert_events(w, 1, "CREATE|ISDIR d;");
	assert_int_equal(vfs_rename(v, "/w/d", "/w/e", 0), 0);
	assert_events(w, 2, "MOVED_FROM|ISDIR d;MOVED_TO|ISDIR e;");
	assert_int_equal(vfs_chmod(v, "/w/e", 0700), 0);
	assert_events(w, 1, "ATTRIB|ISDIR e;");
	assert_int_equal(vfs_rmdir(v, "/w/e"), 0);
	assert_events(w, 1, "DELETE|ISDIR e;");
	vfs_watcher_free(w);
}

static void test_watch_rename_cookies(void **state)
{
	vfs *v = conf_vfs(state);
	conf_ev ev[CONF_MAX_EV];
	vfs_watcher *w;
	char *got;
	int n;

	conf_mkdir(v, "/w");
	conf_mkdir(v, "/out");
	conf_put(v, "/w/f", "f");
	conf_put(v, "/w/x", "x");
	w = conf_watcher(v, 0);
	assert_true(vfs_watch_add(w, "/w", VFS_EV_ALL, 0) >= 1);
	assert_int_equal(vfs_rename(v, "/w/f", "/w/g", 0), 0);
	assert_int_equal(vfs_rename(v, "/w/g", "/w/x", 0), 0);
	got = conf_events(w, 4, ev, &n);
	/* Renaming over x reports no DELETE of x. */
	assert_string_equal(got, "MOVED_FROM f;MOVED_TO g;MOVED_FROM g;"
	                         "MOVED_TO x;");
	free(got);
	assert_int_not_equal(ev[0].cookie, 0);
	assert_int_equal(ev[0].cookie, ev[1].cookie);
	assert_int_not_equal(ev[2].cookie, 0);
	assert_int_equal(ev[2].cookie, ev[3].cookie);
	assert_int_not_equal(ev[0].cookie, ev[2].cookie);
	/* Out of and into the watched directory: one half each. */
	assert_int_equal(vfs_rename(v, "/w/x", "/out/x", 0), 0);
	assert_events(w, 1, "MOVED_FROM x;");
	assert_int_equal(vfs_rename(v, "/out/x", "/w/back", 0), 0);
	got = conf_events(w, 1, ev, &n);
	assert_string_equal(got, "MOVED_TO back;");
	assert_int_not_equal(ev[0].cookie, 0);
	free(got);
	/* An exchange is two renames. */
	conf_put(v, "/w/y", "y");
	assert_events(w, 3, "CREATE y;MODIFY y;CLOSE_WRITE y;");
	assert_int_equal(vfs_rename(v, "/w/back", "/w/y", VFS_RENAME_EXCHANGE),
	                 0);
	got = conf_events(w, 4, ev, &n);
	assert_string_equal(got, "MOVED_FROM back;MOVED_TO y;MOVED_FROM y;"
	                         "MOVED_TO back;");
	assert_int_equal(ev[0].cookie, ev[1].cookie);
	assert_int_equal(ev[2].cookie, ev[3].cookie);
	assert_int_not_equal(ev[0].cookie, ev[2].cookie);
	free(got);
	/* Non-move records carry no cookie. */
	assert_int_equal(vfs_unlink(v, "/w/y"), 0);
	got = conf_events(w, 1, ev, &n);
	assert_string_equal(got, "DELETE y;");
	assert_int_equal(ev[0].cookie, 0);
	free(got);
	vfs_watcher_free(w);
}

static void test_watch_self_events(void **state)
{
	vfs *v = conf_vfs(state);
	conf_ev ev[CONF_MAX_EV];
	vfs_watcher *w;
	int wdir, wfile, n, fd;
	char *got;

	conf_mkdir(v, "/w");
	conf_put(v, "/w/s", "s");
	w = conf_watcher(v, 0);
	wdir = vfs_watch_add(w, "/w", VFS_EV_ALL, 0);
	wfile = vfs_watch_add(w, "/w/s", VFS_EV_ALL, 0);
	assert_true(wdir >= 1);
	assert_true(wfile >= 1);
	assert_int_not_equal(wdir, wfile);
	fd = vfs_open(v, "/w/s", O_WRONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(vfs_write(v, fd, "y", 1), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	got = conf_events(w, 4, ev, &n);
	free(got);
	assert_int_equal(n, 4);
	/* Per watch: the directory names the child, the file's own watch
	 * has no name. */
	char a[256] = "", b[256] = "";
	for (int i = 0; i < n; i++) {
		char *dst = ev[i].wd == wdir ? a : b;
		assert_true(ev[i].wd == wdir || ev[i].wd == wfile);
		snprintf(dst + strlen(dst), 256 - strlen(dst), "%s %s;",
		         conf_mask_name(ev[i].mask), ev[i].name);
	}
	assert_string_equal(a, "MODIFY s;CLOSE_WRITE s;");
	assert_string_equal(b, "MODIFY ;CLOSE_WRITE ;");
	/* Unlinking the watched file: ATTRIB (link count), DELETE_SELF and
	 * IGNORED on its watch, DELETE on the directory's. */
	assert_int_equal(vfs_unlink(v, "/w/s"), 0);
	got = conf_events(w, 4, ev, &n);
	free(got);
	assert_int_equal(n, 4);
	a[0] = b[0] = '\0';
	for (int i = 0; i < n; i++) {
		char *dst = ev[i].wd == wdir ? a : b;
		snprintf(dst + strlen(dst), 256 - strlen(dst), "%s %s;",
		         conf_mask_name(ev[i].mask), ev[i].name);
	}
	assert_string_equal(a, "DELETE s;");
	assert_string_equal(b, "ATTRIB ;DELETE_SELF ;IGNORED ;");
	/* The file's watch is gone. */
	assert_int_equal(vfs_watch_remove(w, wfile), -EINVAL);
	/* Removing a watched directory. */
	conf_mkdir(v, "/other");
	int wo = vfs_watch_add(w, "/other", VFS_EV_ALL, 0);
	assert_true(wo >= 1);
	assert_int_equal(vfs_rmdir(v, "/other"), 0);
	got = conf_events(w, 2, ev, &n);
	assert_string_equal(got, "DELETE_SELF;IGNORED;");
	assert_int_equal(ev[0].wd, wo);
	assert_int_equal(ev[1].wd, wo);
	free(got);
	vfs_watcher_free(w);
}

static void test_watch_add_and_remove(void **state)
{
	vfs *v = conf_vfs(state);
	conf_ev ev[CONF_MAX_EV];
	vfs_watcher *w;
	vfs_watcher_options o;
	int wd, n;
	char *got;

	conf_mkdir(v, "/w");
	conf_put(v, "/f", "x");
	conf_symlink(v, "w", "/lw");
	w = conf_watcher(v, 0);
	assert_int_equal(vfs_watch_add(w, "/missing", VFS_EV_ALL, 0), -ENOENT);
	assert_int_equal(vfs_watch_add(w, "/w", 0, 0), -EINVAL);
	assert_int_equal(vfs_watch_add(w, "/w", 1u << 20, 0), -EINVAL);
	assert_int_equal(vfs_watch_add(w, "/w", VFS_EV_ALL, 1u << 9), -EINVAL);
	assert_int_equal(
	        vfs_watch_add(w, "/f", VFS_EV_ALL, VFS_WATCH_RECURSIVE),
	        -ENOTDIR);
	assert_int_equal(vfs_watch_add(w, "", VFS_EV_ALL, 0), -ENOENT);
	wd = vfs_watch_add(w, "/w", VFS_EV_CREATE, 0);
	assert_true(wd >= 1);
	/* Through a symlink: the same node, the same wd, the new mask. */
	assert_int_equal(vfs_watch_add(w, "/lw", VFS_EV_DELETE, 0), wd);
	conf_put(v, "/w/a", "a");
	assert_int_equal(vfs_unlink(v, "/w/a"), 0);
	assert_events(w, 1, "DELETE a;");
	assert_int_equal(vfs_watch_remove(w, wd), 0);
	got = conf_events(w, 1, ev, &n);
	assert_string_equal(got, "IGNORED;");
	assert_int_equal(ev[0].wd, wd);
	free(got);
	assert_int_equal(vfs_watch_remove(w, wd), -EINVAL);
	assert_int_equal(vfs_watch_remove(w, 12345), -EINVAL);
	assert_int_equal(vfs_watch_remove(w, -1), -EINVAL);
	conf_put(v, "/w/b", "b");
	assert_events(w, 0, "");
	vfs_watcher_free(w);
	vfs_watcher_free(NULL);
	/* max_watches */
	memset(&o, 0, sizeof o);
	o.version = VFS_WATCHER_OPTIONS_VERSION;
	o.max_watches = 2;
	assert_int_equal(vfs_watcher_new(v, &w, &o), 0);
	assert_true(vfs_watch_add(w, "/w", VFS_EV_ALL, 0) >= 1);
	assert_true(vfs_watch_add(w, "/f", VFS_EV_ALL, 0) >= 1);
	conf_mkdir(v, "/third");
	assert_int_equal(vfs_watch_add(w, "/third", VFS_EV_ALL, 0), -ENOSPC);
	vfs_watcher_free(w);
	/* A recursive watch that cannot follow a new directory (the watch
	 * and /third fill max_watches) reports an overflow instead of
	 * losing what happens below it silently. */
	assert_int_equal(vfs_watcher_new(v, &w, &o), 0);
	assert_true(vfs_watch_add(w, "/third", VFS_EV_CREATE,
	                          VFS_WATCH_RECURSIVE) >= 1);
	conf_mkdir(v, "/third/a");
	conf_put(v, "/third/a/x", "x");
	assert_events(w, 2, "CREATE|ISDIR a;OVERFLOW;");
	vfs_watcher_free(w);
	o.version = VFS_WATCHER_OPTIONS_VERSION + 9;
	w = NULL;
	assert_int_equal(vfs_watcher_new(v, &w, &o), -EINVAL);
}

static void test_watch_overflow_is_explicit(void **state)
{
	vfs *v = conf_vfs(state);
	conf_ev ev[CONF_MAX_EV];
	vfs_watcher *w;
	char p[32], *got;
	int n;

	conf_mkdir(v, "/w");
	w = conf_watcher(v, 8);
	assert_true(vfs_watch_add(w, "/w", VFS_EV_CREATE, 0) >= 1);
	for (int i = 0; i < 20; i++) {
		snprintf(p, sizeof p, "/w/f%02d", i);
		conf_mkdir(v, p);
	}
	got = conf_events(w, 9, ev, &n);
	/* The first 8 records are kept, then one OVERFLOW with wd -1. */
	assert_string_equal(got, "CREATE|ISDIR f00;CREATE|ISDIR f01;"
	                         "CREATE|ISDIR f02;CREATE|ISDIR f03;"
	                         "CREATE|ISDIR f04;CREATE|ISDIR f05;"
	                         "CREATE|ISDIR f06;CREATE|ISDIR f07;"
	                         "OVERFLOW;");
	assert_int_equal(ev[8].wd, -1);
	free(got);
	/* Once read, records flow again. */
	conf_mkdir(v, "/w/after");
	assert_events(w, 1, "CREATE|ISDIR after;");
	vfs_watcher_free(w);
}

static void test_watch_descriptor_and_small_buffer(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_watcher *w;
	char small[sizeof(vfs_event) + 2];
	struct pollfd p;

	conf_mkdir(v, "/w");
	w = conf_watcher(v, 0);
	assert_true(vfs_watch_add(w, "/w", VFS_EV_CREATE, 0) >= 1);
	p = (struct pollfd){vfs_watcher_fd(w), POLLIN, 0};
	assert_true(p.fd >= 0);
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(vfs_watcher_read(w, small, sizeof small), 0);
	conf_put(v, "/w/a-longer-name", "x");
	p.revents = 0;
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_true(p.revents & POLLIN);
	/* A buffer too small for the next record: EINVAL, nothing lost. */
	assert_int_equal(vfs_watcher_read(w, small, sizeof small), -EINVAL);
	assert_events(w, 1, "CREATE a-longer-name;");
	p.revents = 0;
	assert_int_equal(poll(&p, 1, 0), 0);
	vfs_watcher_free(w);
}

static void test_watch_recursive_names_paths(void **state)
{
	vfs *v = conf_vfs(state);
	conf_ev ev[CONF_MAX_EV];
	vfs_watcher *w;
	char *got;
	int n;

	conf_mkdir(v, "/r");
	conf_mkdir(v, "/r/old");
	w = conf_watcher(v, 0);
	assert_true(vfs_watch_add(w, "/r", VFS_EV_CREATE | VFS_EV_DELETE,
	                          VFS_WATCH_RECURSIVE) >= 1);
	conf_put(v, "/r/old/f", "x");
	assert_events(w, 1, "CREATE old/f;");
	/* A tree made in quick succession: every entry is reported once. */
	conf_mkdir(v, "/r/a");
	conf_mkdir(v, "/r/a/b");
	conf_put(v, "/r/a/b/file", "x");
	got = conf_events(w, 3, ev, &n);
	assert_string_equal(got, "CREATE|ISDIR a;CREATE|ISDIR a/b;"
	                         "CREATE a/b/file;");
	free(got);
	assert_int_equal(vfs_unlink(v, "/r/a/b/file"), 0);
	assert_events(w, 1, "DELETE a/b/file;");
	/* A directory moved in is watched too. */
	conf_mkdir(v, "/outside");
	conf_mkdir(v, "/outside/in");
	assert_int_equal(vfs_rename(v, "/outside", "/r/moved", 0), 0);
	conf_put(v, "/r/moved/in/g", "g");
	assert_events(w, 1, "CREATE moved/in/g;");
	vfs_watcher_free(w);
}

static void test_watch_on_a_mount(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_watcher *w;

	assert_int_equal(vfs_mount_spec(v, "/m", "memory", NULL, 0), 0);
	w = conf_watcher(v, 0);
	assert_true(vfs_watch_add(w, "/m", VFS_EV_ALL, 0) >= 1);
	conf_mkdir(v, "/m/d");
	assert_events(w, 1, "CREATE|ISDIR d;");
	vfs_watcher_free(w);
}

/* ---- changes made on the host ------------------------------------------ */

/* The host path of path in the disk store under test (its spec may go
 * on with ",options"). */
static void conf_host_path(void **state, const char *path, char *out,
                           size_t size)
{
	const char *dir = conf_store_file(state);
	int n = snprintf(out, size, "%.*s%s", (int)strcspn(dir, ","), dir,
	                 path);

	assert_true(n > 0 && (size_t)n < size);
}

/* disk: make the calling thread read what the kernel queued so far (a
 * change through the VFS does), outside every watched tree. */
static void conf_settle(vfs *v)
{
	conf_mkdir(v, "/settle");
	assert_int_equal(vfs_rmdir(v, "/settle"), 0);
}

typedef void conf_mkdir_fn(void **state, const char *path);

static void conf_mkdir_vfs(void **state, const char *path)
{
	conf_mkdir(conf_vfs(state), path);
}

/* disk: make a directory on the host, as another process would. */
static void conf_mkdir_host(void **state, const char *path)
{
	char host[1400];

	conf_host_path(state, path, host, sizeof host);
	assert_int_equal(mkdir(host, 0755), 0);
}

/* disk: rename on the host. */
static void conf_rename_host(void **state, const char *from, const char *to)
{
	char hfrom[1400], hto[1400];

	conf_host_path(state, from, hfrom, sizeof hfrom);
	conf_host_path(state, to, hto, sizeof hto);
	assert_int_equal(rename(hfrom, hto), 0);
}

/* ---- bursts and overflow ------------------------------------------------ */

#define CONF_BURST       100000
#define CONF_BURST_FILES 64
#define CONF_QUEUE       16384 /* the default max_events */

/*
 * The file the next write of a burst goes to: never the one before
 * (identical records would merge) and with no short period, so that a
 * record missing anywhere in what is kept shows as a wrong name.
 */
static int conf_burst_next(uint32_t *seed, int prev)
{
	*seed = *seed * 1664525u + 1013904223u;
	return (prev + 1 + (int)((*seed >> 16) % (CONF_BURST_FILES - 1))) %
	       CONF_BURST_FILES;
}

/* What a burst left in a watcher's queue. */
typedef struct conf_burst {
	long kept;       /* leading records that are the burst, in order */
	long overflows;  /* VFS_EV_OVERFLOW records */
	char extra[256]; /* the first records that are not the burst */
} conf_burst;

/*
 * Read everything queued in w and check it against the burst of writes
 * made with conf_burst_next: the burst's MODIFY records on wd in order,
 * and where the first is missing, an OVERFLOW record with wd -1.
 */
static conf_burst conf_read_burst(vfs_watcher *w, int wd)
{
	static _Alignas(vfs_event) char buf[64 * 1024];
	conf_burst r = {0, 0, ""};
	uint32_t seed = 1;
	int file = conf_burst_next(&seed, 0);
	bool in_burst = true;
	int64_t got;

	while ((got = vfs_watcher_read(w, buf, sizeof buf)) > 0) {
		for (int64_t off = 0; off < got;) {
			vfs_event *e = (vfs_event *)(buf + off);
			char want[16];

			assert_true(off + (int64_t)sizeof *e + e->len <= got);
			off += (int64_t)sizeof *e + e->len;
			snprintf(want, sizeof want, "f%02d", file);
			if (in_burst && r.kept < CONF_BURST &&
			    e->mask == VFS_EV_MODIFY && e->wd == wd &&
			    e->cookie == 0 && e->len > 0 &&
			    strcmp(e->name, want) == 0) {
				r.kept++;
				file = conf_burst_next(&seed, file);
				continue;
			}
			if (in_burst && r.kept < CONF_BURST &&
			    !(e->mask & VFS_EV_OVERFLOW))
				fail_msg("record %ld: %s %s, wanted MODIFY %s",
				         r.kept, conf_mask_name(e->mask),
				         e->len ? e->name : "", want);
			in_burst = false;
			if (e->mask & VFS_EV_OVERFLOW) {
				assert_int_equal(e->mask, VFS_EV_OVERFLOW);
				assert_int_equal(e->wd, -1);
				assert_int_equal(e->cookie, 0);
				assert_int_equal(e->len, 0);
				r.overflows++;
				continue;
			}
			if (strlen(r.extra) < sizeof r.extra - 64)
				snprintf(r.extra + strlen(r.extra),
				         sizeof r.extra - strlen(r.extra),
				         "%s%s %s;", conf_mask_name(e->mask),
				         (e->mask & VFS_EV_ISDIR) ? "|ISDIR"
				                                  : "",
				         e->len ? e->name : "");
		}
	}
	assert_int_equal(got, 0);
	return r;
}

/* The tree a burst runs in: /w with the files it writes, and directories
 * that conf_burst_moves() changes once the queue is full. */
static void conf_burst_tree(vfs *v)
{
	char p[32];

	conf_mkdir(v, "/w");
	conf_mkdir(v, "/w/old");
	conf_mkdir(v, "/w/old/sub");
	conf_mkdir(v, "/w/leaving");
	conf_mkdir(v, "/w/gone");
	for (int i = 0; i < CONF_BURST_FILES; i++) {
		snprintf(p, sizeof p, "/w/f%02d", i);
		conf_put(v, p, "");
	}
}

/* Make, move within, move out of and remove directories of the tree. */
static void conf_burst_moves(vfs *v)
{
	conf_mkdir(v, "/w/new");
	assert_int_equal(vfs_rename(v, "/w/old", "/w/moved", 0), 0);
	assert_int_equal(vfs_rename(v, "/w/leaving", "/left", 0), 0);
	assert_int_equal(vfs_rmdir(v, "/w/gone"), 0);
}

/*
 * After an overflow, a recursive watch still follows the tree: the
 * directories conf_burst_moves() changed while records were dropped are
 * watched under their new names, or no longer.
 */
static void conf_burst_followed(vfs *v, vfs_watcher *w1, vfs_watcher *w2)
{
	conf_mkdir(v, "/w/new/x");
	conf_mkdir(v, "/w/moved/sub/x");
	conf_mkdir(v, "/left/x");
	assert_events(w1, 2, "CREATE|ISDIR new/x;CREATE|ISDIR moved/sub/x;");
	if (w2 != NULL)
		assert_events(w2, 2,
		              "CREATE|ISDIR new/x;CREATE|ISDIR moved/sub/x;");
}

static void test_watch_overflow_under_a_burst(void **state)
{
	vfs *v = conf_vfs(state);
	int fds[CONF_BURST_FILES];
	uint32_t seed = 1;
	vfs_watcher *w;
	conf_burst r;
	struct pollfd p;
	char path[32];
	int wd, file = 0;

	conf_burst_tree(v);
	for (int i = 0; i < CONF_BURST_FILES; i++) {
		snprintf(path, sizeof path, "/w/f%02d", i);
		fds[i] = vfs_open(v, path, O_WRONLY, 0);
		assert_true(fds[i] >= 0);
	}
	w = conf_watcher(v, 0);
	wd = vfs_watch_add(w, "/w", VFS_EV_MODIFY | VFS_EV_CREATE,
	                   VFS_WATCH_RECURSIVE);
	assert_true(wd >= 1);
	for (long i = 0; i < CONF_BURST; i++) {
		file = conf_burst_next(&seed, file);
		if (vfs_pwrite(v, fds[file], "x", 1, 0) != 1)
			fail_msg("write %ld failed", i);
	}
	/* Changes to the tree while the queue is full are dropped too. */
	conf_burst_moves(v);
	/* The first 16384 records are kept, in order, then one OVERFLOW;
	 * nothing follows it. */
	r = conf_read_burst(w, wd);
	assert_int_equal(r.kept, CONF_QUEUE);
	assert_int_equal(r.overflows, 1);
	assert_string_equal(r.extra, "");
	p = (struct pollfd){vfs_watcher_fd(w), POLLIN, 0};
	assert_int_equal(poll(&p, 1, 0), 0);
	/* Read out, the queue takes records again, named right. */
	assert_int_equal(vfs_pwrite(v, fds[0], "y", 1, 0), 1);
	assert_events(w, 1, "MODIFY f00;");
	conf_burst_followed(v, w, NULL);
	for (int i = 0; i < CONF_BURST_FILES; i++)
		assert_int_equal(vfs_close(v, fds[i]), 0);
	vfs_watcher_free(w);
}

/* The kernel's queue limit, fs.inotify.max_queued_events. */
static long conf_host_queue_limit(void)
{
	FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	long n = CONF_QUEUE;

	if (f != NULL) {
		if (fscanf(f, "%ld", &n) != 1)
			n = CONF_QUEUE;
		fclose(f);
	}
	return n;
}

/*
 * disk: the same burst made on the host directory, as another process
 * would. The bridge reads the kernel's queue (fs.inotify.max_queued_events)
 * in its own thread; when it falls behind, the kernel drops records and
 * queues IN_Q_OVERFLOW, which must come out as the same single OVERFLOW
 * record with nothing lost before it. A watcher with a queue larger than
 * the burst shows the kernel's overflow on its own.
 */
static void test_watch_overflow_of_the_host_queue(void **state)
{
	vfs *v = conf_vfs(state);
	int fds[CONF_BURST_FILES];
	char host[1400], to[1400];
	uint32_t seed = 1;
	long kmax = conf_host_queue_limit();
	vfs_watcher *w, *big;
	conf_burst r;
	int wd, bwd, file = 0;

	conf_burst_tree(v);
	for (int i = 0; i < CONF_BURST_FILES; i++) {
		snprintf(to, sizeof to, "/w/f%02d", i);
		conf_host_path(state, to, host, sizeof host);
		fds[i] = open(host, O_WRONLY | O_CLOEXEC);
		assert_true(fds[i] >= 0);
	}
	w = conf_watcher(v, 0);
	wd = vfs_watch_add(w, "/w", VFS_EV_MODIFY | VFS_EV_CREATE,
	                   VFS_WATCH_RECURSIVE);
	assert_true(wd >= 1);
	big = conf_watcher(v, 4 * CONF_BURST);
	bwd = vfs_watch_add(big, "/w", VFS_EV_MODIFY | VFS_EV_CREATE,
	                    VFS_WATCH_RECURSIVE);
	assert_true(bwd >= 1);
	for (long i = 0; i < CONF_BURST; i++) {
		file = conf_burst_next(&seed, file);
		if (pwrite(fds[file], "x", 1, 0) != 1)
			fail_msg("host write %ld failed", i);
	}
	for (int i = 0; i < CONF_BURST_FILES; i++)
		assert_int_equal(close(fds[i]), 0);
	/* The same directory changes, on the host. */
	conf_mkdir_host(state, "/w/new");
	conf_rename_host(state, "/w/old", "/w/moved");
	conf_rename_host(state, "/w/leaving", "/left");
	conf_host_path(state, "/w/gone", host, sizeof host);
	assert_int_equal(rmdir(host), 0);
	conf_settle(v);
	/* Whichever queue overflowed first, the watcher keeps the first
	 * 16384 records (fewer if the kernel's queue is smaller, but no
	 * fewer than it holds). */
	r = conf_read_burst(w, wd);
	if (kmax >= CONF_QUEUE)
		assert_int_equal(r.kept, CONF_QUEUE);
	else
		assert_true(r.kept >= kmax && r.kept <= CONF_QUEUE);
	assert_int_equal(r.overflows, 1);
	assert_string_equal(r.extra, "");
	r = conf_read_burst(big, bwd);
	assert_true(r.kept >= (kmax < CONF_BURST ? kmax : CONF_BURST));
	assert_true(r.overflows <= 1);
	if (r.kept < CONF_BURST)
		assert_int_equal(r.overflows, 1);
	conf_burst_followed(v, w, big);
	vfs_watcher_free(big);
	vfs_watcher_free(w);
}

/* ---- moves -------------------------------------------------------------- */

/* Records that start with one move, "FROM;TO;...": the pair on wd with
 * one nonzero cookie. */
static void conf_expect_move(vfs_watcher *w, int wd, int want, const char *text)
{
	conf_ev ev[CONF_MAX_EV];
	char *got;
	int n;

	got = conf_events(w, want, ev, &n);
	assert_string_equal(got, text);
	free(got);
	assert_int_equal(n, want);
	assert_int_equal(ev[0].wd, wd);
	assert_int_equal(ev[1].wd, wd);
	assert_int_not_equal(ev[0].cookie, 0);
	assert_int_equal(ev[0].cookie, ev[1].cookie);
}

static void test_watch_recursive_moves(void **state)
{
	vfs *v = conf_vfs(state);
	conf_ev ev[CONF_MAX_EV];
	vfs_watcher *w;
	char *got;
	int wd, n;

	conf_mkdir(v, "/r");
	conf_mkdir(v, "/r/a");
	conf_mkdir(v, "/r/a/sub");
	conf_mkdir(v, "/r/b");
	conf_mkdir(v, "/out");
	conf_put(v, "/r/a/f", "f");
	conf_put(v, "/out/x", "x");
	w = conf_watcher(v, 0);
	wd = vfs_watch_add(w, "/r", VFS_EV_ALL, VFS_WATCH_RECURSIVE);
	assert_true(wd >= 1);
	/* Between two directories of the tree: one pair, one cookie. */
	assert_int_equal(vfs_rename(v, "/r/a/f", "/r/b/g", 0), 0);
	conf_expect_move(w, wd, 2, "MOVED_FROM a/f;MOVED_TO b/g;");
	/* Into the tree from outside: only MOVED_TO; out of it: only
	 * MOVED_FROM. */
	assert_int_equal(vfs_rename(v, "/out/x", "/r/a/sub/x", 0), 0);
	got = conf_events(w, 1, ev, &n);
	assert_string_equal(got, "MOVED_TO a/sub/x;");
	assert_int_not_equal(ev[0].cookie, 0);
	free(got);
	assert_int_equal(vfs_rename(v, "/r/b/g", "/out/g", 0), 0);
	got = conf_events(w, 1, ev, &n);
	assert_string_equal(got, "MOVED_FROM b/g;");
	assert_int_not_equal(ev[0].cookie, 0);
	free(got);
	/* A directory moved within the tree reports under its new name,
	 * and so does everything below it. */
	assert_int_equal(vfs_rename(v, "/r/a", "/r/b/a2", 0), 0);
	conf_expect_move(w, wd, 2, "MOVED_FROM|ISDIR a;MOVED_TO|ISDIR b/a2;");
	assert_int_equal(vfs_unlink(v, "/r/b/a2/sub/x"), 0);
	assert_events(w, 1, "DELETE b/a2/sub/x;");
	/* So after its parent moves. */
	assert_int_equal(vfs_rename(v, "/r/b", "/r/c", 0), 0);
	conf_expect_move(w, wd, 2, "MOVED_FROM|ISDIR b;MOVED_TO|ISDIR c;");
	conf_mkdir(v, "/r/c/a2/sub/d");
	assert_events(w, 1, "CREATE|ISDIR c/a2/sub/d;");
	/* Moved out, it is no longer reported; moved back in, it is again,
	 * under the name it comes back with. */
	assert_int_equal(vfs_rename(v, "/r/c/a2", "/out/a2", 0), 0);
	assert_events(w, 1, "MOVED_FROM|ISDIR c/a2;");
	conf_mkdir(v, "/out/a2/sub/d/e");
	assert_events(w, 0, "");
	assert_int_equal(vfs_rename(v, "/out/a2", "/r/back", 0), 0);
	assert_events(w, 1, "MOVED_TO|ISDIR back;");
	assert_int_equal(vfs_rmdir(v, "/r/back/sub/d/e"), 0);
	assert_events(w, 1, "DELETE|ISDIR back/sub/d/e;");
	/* The watched directory itself moves: MOVE_SELF, and names stay
	 * relative to it. */
	assert_int_equal(vfs_rename(v, "/r", "/r2", 0), 0);
	assert_events(w, 1, "MOVE_SELF;");
	conf_mkdir(v, "/r2/c/new");
	assert_events(w, 1, "CREATE|ISDIR c/new;");
	vfs_watcher_free(w);
}

/*
 * disk: a directory renamed on the host and changed at once, before the
 * bridge has read the rename, as a build tool's "write to a temporary
 * directory, then rename" does: the change is reported under the new
 * name, and nothing is reported from a directory moved out.
 */
static void test_watch_recursive_moves_host(void **state)
{
	vfs *v = conf_vfs(state);
	vfs_watcher *w;
	int wd;

	conf_mkdir(v, "/r");
	conf_mkdir(v, "/r/a");
	conf_mkdir(v, "/r/a/sub");
	conf_mkdir(v, "/out");
	w = conf_watcher(v, 0);
	wd = vfs_watch_add(w, "/r", VFS_EV_ALL, VFS_WATCH_RECURSIVE);
	assert_true(wd >= 1);
	conf_rename_host(state, "/r/a", "/r/b");
	conf_mkdir_host(state, "/r/b/sub/x");
	conf_settle(v);
	conf_expect_move(w, wd, 3,
	                 "MOVED_FROM|ISDIR a;MOVED_TO|ISDIR b;"
	                 "CREATE|ISDIR b/sub/x;");
	conf_rename_host(state, "/r/b/sub", "/r/sub2");
	conf_rename_host(state, "/r/sub2", "/r/b/sub3");
	conf_mkdir_host(state, "/r/b/sub3/x/y");
	conf_settle(v);
	assert_events(w, 5,
	              "MOVED_FROM|ISDIR b/sub;MOVED_TO|ISDIR sub2;"
	              "MOVED_FROM|ISDIR sub2;MOVED_TO|ISDIR b/sub3;"
	              "CREATE|ISDIR b/sub3/x/y;");
	conf_rename_host(state, "/r/b", "/out/b");
	conf_mkdir_host(state, "/out/b/sub3/z");
	conf_settle(v);
	assert_events(w, 1, "MOVED_FROM|ISDIR b;");
	vfs_watcher_free(w);
}

/* ---- unmounting --------------------------------------------------------- */

static void test_watch_unmount_ends_its_watches(void **state)
{
	vfs *v = conf_vfs(state);
	conf_ev ev[CONF_MAX_EV];
	vfs_watcher_options o;
	vfs_watcher *w;
	int wroot, wm, wd, wf, n;
	char spec[1400], *got;

	if (conf_is("memory"))
		snprintf(spec, sizeof spec, "memory");
	else
		conf_extra_spec(state, spec, sizeof spec);
	assert_int_equal(vfs_mount_spec(v, "/m", spec, NULL, 0), 0);
	conf_mkdir(v, "/m/d");
	conf_put(v, "/m/d/f", "f");
	conf_mkdir(v, "/other");
	memset(&o, 0, sizeof o);
	o.version = VFS_WATCHER_OPTIONS_VERSION;
	o.max_watches = 7;
	assert_int_equal(vfs_watcher_new(v, &w, &o), 0);
	wroot = vfs_watch_add(w, "/", VFS_EV_ALL, 0);
	/* Three entries: the watch, /m and /m/d (and /m/d/e later). */
	wm = vfs_watch_add(w, "/m", VFS_EV_ALL, VFS_WATCH_RECURSIVE);
	wd = vfs_watch_add(w, "/m/d", VFS_EV_ALL, 0);
	wf = vfs_watch_add(w, "/m/d/f", VFS_EV_ALL, 0);
	assert_true(wroot >= 1 && wm >= 1 && wd >= 1 && wf >= 1);
	conf_mkdir(v, "/m/d/e");
	assert_int_equal(vfs_watch_add(w, "/other", VFS_EV_ALL, 0), -ENOSPC);
	/* Unread records stay; each watch in the store ends with IGNORED. */
	assert_int_equal(vfs_mount_remove(v, "/m"), 0);
	got = conf_events(w, 5, ev, &n);
	free(got);
	assert_int_equal(n, 5);
	/* The directory's creation, once for each of its two watches. */
	assert_true((ev[0].wd == wm && ev[1].wd == wd) ||
	            (ev[0].wd == wd && ev[1].wd == wm));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ev[i].mask, VFS_EV_CREATE | VFS_EV_ISDIR);
		assert_string_equal(ev[i].name, ev[i].wd == wm ? "d/e" : "e");
	}
	for (int i = 2; i < 5; i++) {
		assert_int_equal(ev[i].mask, VFS_EV_IGNORED);
		assert_true(ev[i].wd == wm || ev[i].wd == wd || ev[i].wd == wf);
		for (int j = 2; j < i; j++)
			assert_int_not_equal(ev[i].wd, ev[j].wd);
	}
	/* Nothing is left of them: not their wds, not their places. */
	assert_int_equal(vfs_watch_remove(w, wm), -EINVAL);
	assert_int_equal(vfs_watch_remove(w, wd), -EINVAL);
	assert_int_equal(vfs_watch_remove(w, wf), -EINVAL);
	assert_int_equal(vfs_mount_spec(v, "/m", spec, NULL, 0), 0);
	if (!conf_is("memory")) {
		/* The store kept its tree: make room under max_watches. */
		assert_int_equal(vfs_unlink(v, "/m/d/f"), 0);
		assert_int_equal(vfs_rmdir(v, "/m/d/e"), 0);
		assert_int_equal(vfs_rmdir(v, "/m/d"), 0);
	}
	conf_mkdir(v, "/m/d2");
	assert_events(w, 0, "");
	assert_true(vfs_watch_add(w, "/other", VFS_EV_ALL, 0) >= 1);
	wm = vfs_watch_add(w, "/m", VFS_EV_ALL, VFS_WATCH_RECURSIVE);
	assert_true(wm >= 1);
	conf_mkdir(v, "/m/d2/x");
	got = conf_events(w, 1, ev, &n);
	assert_string_equal(got, "CREATE|ISDIR d2/x;");
	assert_int_equal(ev[0].wd, wm);
	free(got);
	/* The root store's watch was not touched. */
	conf_mkdir(v, "/z");
	got = conf_events(w, 1, ev, &n);
	assert_string_equal(got, "CREATE|ISDIR z;");
	assert_int_equal(ev[0].wd, wroot);
	free(got);
	/* Unmounting again, then freeing the watcher. */
	assert_int_equal(vfs_mount_remove(v, "/m"), 0);
	got = conf_events(w, 1, ev, &n);
	assert_string_equal(got, "IGNORED;");
	assert_int_equal(ev[0].wd, wm);
	free(got);
	vfs_watcher_free(w);
}

/* ---- threads ------------------------------------------------------------ */

#define CONF_WATCH_DIRS 4

typedef struct conf_watch_worker {
	vfs *v;
	vfs_watcher *w; /* shared; NULL: use a watcher of its own */
	int id;
	atomic_bool *done; /* set when the tree stops changing */
	long rounds;       /* done (watchers), or to do (the changer) */
	int failures;
	char note[160];
} conf_watch_worker;

static void conf_watch_fail(conf_watch_worker *t, const char *what, long rc)
{
	if (t->failures++ == 0)
		snprintf(t->note, sizeof t->note, "thread %d: %s -> %ld", t->id,
		         what, rc);
}

/* Read what is queued; every record must be well formed. */
static void conf_watch_read_checked(conf_watch_worker *t, vfs_watcher *w)
{
	_Alignas(vfs_event) char buf[4 * (sizeof(vfs_event) + 64)];
	int64_t got;

	while ((got = vfs_watcher_read(w, buf, sizeof buf)) > 0) {
		for (int64_t off = 0; off < got;) {
			vfs_event *e = (vfs_event *)(buf + off);
			uint32_t kind = e->mask & ~VFS_EV_ISDIR;

			off += (int64_t)sizeof *e + e->len;
			if (off > got || (kind & (kind - 1)) != 0 ||
			    strcmp(conf_mask_name(kind), "?") == 0 ||
			    (e->wd == -1) != (kind == VFS_EV_OVERFLOW) ||
			    (e->len > 0 && e->name[e->len - 1] != '\0'))
				conf_watch_fail(t, "bad record", e->mask);
		}
	}
	if (got < 0)
		conf_watch_fail(t, "read", (long)got);
}

/* Add and remove watches on the directories and read, until done. */
static void *conf_watch_churn(void *arg)
{
	conf_watch_worker *t = arg;
	vfs_watcher *w = t->w;
	char p[32];

	while (!atomic_load(t->done) || t->rounds < 50) {
		int k = (int)((t->rounds + t->id) % CONF_WATCH_DIRS);
		int wd, rc;

		if (t->w == NULL &&
		    (rc = vfs_watcher_new(t->v, &w, NULL)) < 0) {
			conf_watch_fail(t, "watcher_new", rc);
			break;
		}
		snprintf(p, sizeof p, "/t/d%d", k);
		wd = vfs_watch_add(w, p, VFS_EV_ALL,
		                   (k & 1) ? VFS_WATCH_RECURSIVE : 0);
		if (wd < 1)
			conf_watch_fail(t, "watch_add", wd);
		conf_watch_read_checked(t, w);
		/* Another thread may have removed the same watch. */
		rc = vfs_watch_remove(w, wd);
		if (rc != 0 && !(rc == -EINVAL && t->w != NULL))
			conf_watch_fail(t, "watch_remove", rc);
		conf_watch_read_checked(t, w);
		if (t->w == NULL)
			vfs_watcher_free(w);
		t->rounds++;
	}
	return NULL;
}

/* Create, write, move and remove files and directories in /t. */
static void *conf_watch_mutate(void *arg)
{
	conf_watch_worker *t = arg;
	char p[64], q[64];
	int rc;

	for (long i = 0; i < t->rounds; i++) {
		int k = (int)(i % CONF_WATCH_DIRS);
		int fd;

		snprintf(p, sizeof p, "/t/d%d/f%ld", k, i);
		snprintf(q, sizeof q, "/t/d%d/s/g%ld",
		         (k + 1) % CONF_WATCH_DIRS, i);
		fd = vfs_open(t->v, p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			conf_watch_fail(t, "create", fd);
			continue;
		}
		if (vfs_write(t->v, fd, "x", 1) != 1)
			conf_watch_fail(t, "write", -1);
		if ((rc = vfs_close(t->v, fd)) != 0)
			conf_watch_fail(t, "close", rc);
		if ((rc = vfs_rename(t->v, p, q, 0)) != 0)
			conf_watch_fail(t, "rename", rc);
		snprintf(p, sizeof p, "/t/d%d/s/x", k);
		if ((rc = vfs_mkdir(t->v, p, 0755)) != 0)
			conf_watch_fail(t, "mkdir", rc);
		if ((rc = vfs_rename(t->v, p, "/t/y", 0)) != 0)
			conf_watch_fail(t, "rename dir", rc);
		if ((rc = vfs_rmdir(t->v, "/t/y")) != 0)
			conf_watch_fail(t, "rmdir", rc);
		if ((rc = vfs_unlink(t->v, q)) != 0)
			conf_watch_fail(t, "unlink", rc);
	}
	atomic_store(t->done, true);
	return NULL;
}

static void test_watch_threads_add_remove_read(void **state)
{
	vfs *v = conf_vfs(state);
	/* SHARED threads use one watcher, one more makes and frees its own,
	 * the last changes the tree. */
	enum { SHARED = 3, ALL = SHARED + 2 };
	conf_watch_worker t[ALL];
	pthread_t th[ALL];
	atomic_bool done = false;
	vfs_watcher *w;
	char p[32];

	conf_mkdir(v, "/t");
	for (int k = 0; k < CONF_WATCH_DIRS; k++) {
		snprintf(p, sizeof p, "/t/d%d", k);
		conf_mkdir(v, p);
		snprintf(p, sizeof p, "/t/d%d/s", k);
		conf_mkdir(v, p);
	}
	w = conf_watcher(v, 0);
	for (int i = 0; i < ALL; i++) {
		t[i] = (conf_watch_worker){.v = v, .id = i, .done = &done};
		t[i].w = i < SHARED ? w : NULL;
	}
	t[ALL - 1].rounds = 150;
	for (int i = 0; i < ALL; i++)
		assert_int_equal(pthread_create(&th[i], NULL,
		                                i == ALL - 1 ? conf_watch_mutate
		                                             : conf_watch_churn,
		                                &t[i]),
		                 0);
	for (int i = 0; i < ALL; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (t[i].failures != 0)
			fail_msg("%s (%d unexpected results)", t[i].note,
			         t[i].failures);
	}
	/* Every watch was removed: nothing more is reported, and the
	 * watcher works as new. */
	free(conf_events(w, 0, NULL, NULL));
	conf_mkdir(v, "/t/d0/late");
	assert_events(w, 0, "");
	assert_true(vfs_watch_add(w, "/t/d0", VFS_EV_ALL, 0) >= 1);
	assert_int_equal(vfs_rmdir(v, "/t/d0/late"), 0);
	assert_events(w, 1, "DELETE|ISDIR late;");
	vfs_watcher_free(w);
}

/* Records rendered with the watch they came on: "a:CREATE|ISDIR 1;". */
static char *conf_events_of(vfs_watcher *w, int want, int wa, int wb)
{
	conf_ev ev[CONF_MAX_EV];
	int n = conf_collect(w, ev, want);
	size_t cap = 64 + (size_t)n * 300;
	char *out = malloc(cap), *p = out;

	assert_non_null(out);
	*p = '\0';
	for (int i = 0; i < n && i < CONF_MAX_EV; i++)
		p += snprintf(p, cap - (size_t)(p - out), "%s:%s%s%s%s;",
		              ev[i].wd == wa   ? "a"
		              : ev[i].wd == wb ? "b"
		                               : "?",
		              conf_mask_name(ev[i].mask),
		              (ev[i].mask & VFS_EV_ISDIR) ? "|ISDIR" : "",
		              ev[i].name[0] ? " " : "", ev[i].name);
	return out;
}

/*
 * A consumer that removes a watch between two reads, with records of two
 * watches queued: what was queued for both stays, the removed watch's
 * records end with IGNORED, and the other watch loses nothing.
 */
static void conf_remove_between_reads(void **state, conf_mkdir_fn *mk)
{
	vfs *v = conf_vfs(state);
	_Alignas(vfs_event) char one[sizeof(vfs_event) + 8];
	vfs_event *e = (vfs_event *)one;
	vfs_watcher *w;
	char *got;
	int wa, wb;

	conf_mkdir(v, "/a");
	conf_mkdir(v, "/b");
	w = conf_watcher(v, 0);
	wa = vfs_watch_add(w, "/a", VFS_EV_CREATE, 0);
	wb = vfs_watch_add(w, "/b", VFS_EV_CREATE, 0);
	assert_true(wa >= 1 && wb >= 1);
	mk(state, "/a/1");
	mk(state, "/b/1");
	mk(state, "/a/2");
	mk(state, "/b/2");
	conf_settle(v);
	/* Read one record, then remove the watch it came on. */
	assert_int_equal(vfs_watcher_read(w, one, sizeof one), sizeof one);
	assert_int_equal(e->wd, wa);
	assert_string_equal(e->name, "1");
	mk(state, "/a/3");
	mk(state, "/b/3");
	assert_int_equal(vfs_watch_remove(w, wa), 0);
	mk(state, "/a/4");
	mk(state, "/b/4");
	conf_settle(v);
	got = conf_events_of(w, 7, wa, wb);
	assert_string_equal(got, "b:CREATE|ISDIR 1;a:CREATE|ISDIR 2;"
	                         "b:CREATE|ISDIR 2;a:CREATE|ISDIR 3;"
	                         "b:CREATE|ISDIR 3;a:IGNORED;"
	                         "b:CREATE|ISDIR 4;");
	free(got);
	vfs_watcher_free(w);
}

static void test_watch_remove_between_reads(void **state)
{
	conf_remove_between_reads(state, conf_mkdir_vfs);
}

/* disk: the same with changes made on the host, which the bridge may
 * not have read yet when the watch is removed. */
static void test_watch_remove_between_reads_host(void **state)
{
	conf_remove_between_reads(state, conf_mkdir_host);
}

/* ---- nested creation ---------------------------------------------------- */

/* mkdir -p a/b/c, then a file in c at once: every create is reported,
 * once, parents first. */
static void conf_nested_creation(void **state, conf_mkdir_fn *mk, uint32_t mask,
                                 const char *want)
{
	vfs *v = conf_vfs(state);
	vfs_watcher *w;
	char host[1400];
	int fd, n = 0;

	conf_mkdir(v, "/r");
	w = conf_watcher(v, 0);
	assert_true(vfs_watch_add(w, "/r", mask, VFS_WATCH_RECURSIVE) >= 1);
	mk(state, "/r/a");
	mk(state, "/r/a/b");
	mk(state, "/r/a/b/c");
	if (mk == conf_mkdir_host) {
		conf_host_path(state, "/r/a/b/c/f", host, sizeof host);
		fd = open(host, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(close(fd), 0);
		conf_settle(v);
	} else {
		fd = vfs_open(v, "/r/a/b/c/f", O_WRONLY | O_CREAT | O_EXCL,
		              0644);
		assert_true(fd >= 0);
		assert_int_equal(vfs_close(v, fd), 0);
	}
	for (const char *c = want; *c != '\0'; c++)
		n += *c == ';';
	assert_events(w, n, want);
	vfs_watcher_free(w);
}

static void test_watch_recursive_nested_creation(void **state)
{
	conf_nested_creation(state, conf_mkdir_vfs, VFS_EV_ALL,
	                     "CREATE|ISDIR a;CREATE|ISDIR a/b;"
	                     "CREATE|ISDIR a/b/c;CREATE a/b/c/f;"
	                     "CLOSE_WRITE a/b/c/f;");
}

/*
 * disk: the same made on the host, where the bridge may read the first
 * creation after the rest is done, and has to find the rest by scanning.
 * Whether the close is seen depends on that timing, as with inotify.
 */
static void test_watch_recursive_nested_creation_host(void **state)
{
	conf_nested_creation(state, conf_mkdir_host, VFS_EV_CREATE,
	                     "CREATE|ISDIR a;CREATE|ISDIR a/b;"
	                     "CREATE|ISDIR a/b/c;CREATE a/b/c/f;");
}

int conf_run_watch(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_watch_file_events),
	        CONF_TEST(test_watch_identical_records_merge),
	        CONF_TEST(test_watch_directory_events_carry_isdir),
	        CONF_TEST(test_watch_rename_cookies),
	        CONF_TEST(test_watch_self_events),
	        CONF_TEST(test_watch_add_and_remove),
	        CONF_TEST(test_watch_overflow_is_explicit),
	        CONF_TEST(test_watch_descriptor_and_small_buffer),
	        CONF_TEST(test_watch_recursive_names_paths),
	        CONF_TEST(test_watch_on_a_mount),
	        CONF_TEST(test_watch_overflow_under_a_burst),
	        CONF_TEST_ON("disk", test_watch_overflow_of_the_host_queue),
	        CONF_TEST(test_watch_recursive_moves),
	        CONF_TEST_ON("disk", test_watch_recursive_moves_host),
	        CONF_TEST(test_watch_unmount_ends_its_watches),
	        CONF_TEST(test_watch_threads_add_remove_read),
	        CONF_TEST(test_watch_remove_between_reads),
	        CONF_TEST_ON("disk", test_watch_remove_between_reads_host),
	        CONF_TEST(test_watch_recursive_nested_creation),
	        CONF_TEST_ON("disk", test_watch_recursive_nested_creation_host),
	};
	return CONF_RUN_GROUP("watch", tests);
}
