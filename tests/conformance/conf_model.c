/*
 * A namespace model: random create/mkdir/unlink/rmdir/rename/link calls
 * on twelve paths two levels deep, each checked against a small model of
 * the kernel's rules (errno precedence included), then the whole tree is
 * compared with the model. The same sequence was run through real system
 * calls on tmpfs with the model below and agreed on every call (build
 * this file with -DCONF_KERNEL and run it in a tmpfs directory).
 */
#ifdef CONF_KERNEL
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define VFS_RENAME_NOREPLACE RENAME_NOREPLACE
#define VFS_RENAME_EXCHANGE  RENAME_EXCHANGE
#else
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#endif

#define NPATH 12
#define NINO  512

static const char *const conf_paths[NPATH] = {"a",   "b",   "c",   "d",
                                              "a/x", "a/y", "b/x", "b/y",
                                              "c/x", "c/y", "d/x", "d/y"};

typedef struct conf_model {
	int type[NPATH]; /* 0 missing, 1 file, 2 directory */
	int ino[NPATH];  /* files: index into nlink/content */
	int nlink[NINO];
	char content[NINO];
	int ninos;
} conf_model;

static int m_parent(int i)
{
	return i < 4 ? -1 : (i - 4) / 2;
}

static int m_parent_err(const conf_model *m, int i)
{
	int p = m_parent(i);

	if (p < 0 || m->type[p] == 2) {
		return 0;
	}
	return m->type[p] == 0 ? -ENOENT : -ENOTDIR;
}

static bool m_nonempty(const conf_model *m, int i)
{
	return i < 4 && (m->type[4 + 2 * i] != 0 || m->type[5 + 2 * i] != 0);
}

static int m_create(conf_model *m, int i, char c, bool dir)
{
	int rc = m_parent_err(m, i);

	if (rc != 0) {
		return rc;
	}
	if (m->type[i] != 0) {
		return -EEXIST;
	}
	m->type[i] = dir ? 2 : 1;
	if (!dir) {
		m->ino[i] = m->ninos++;
		m->nlink[m->ino[i]] = 1;
		m->content[m->ino[i]] = c;
	}
	return 0;
}

static int m_unlink(conf_model *m, int i)
{
	int rc = m_parent_err(m, i);

	if (rc != 0) {
		return rc;
	}
	if (m->type[i] == 0) {
		return -ENOENT;
	}
	if (m->type[i] == 2) {
		return -EISDIR;
	}
	m->nlink[m->ino[i]]--;
	m->type[i] = 0;
	return 0;
}

static int m_rmdir(conf_model *m, int i)
{
	int rc = m_parent_err(m, i);

	if (rc != 0) {
		return rc;
	}
	if (m->type[i] == 0) {
		return -ENOENT;
	}
	if (m->type[i] == 1) {
		return -ENOTDIR;
	}
	if (m_nonempty(m, i)) {
		return -ENOTEMPTY;
	}
	m->type[i] = 0;
	return 0;
}

static int m_link(conf_model *m, int s, int d)
{
	int rc = m_parent_err(m, s);

	if (rc != 0) {
		return rc;
	}
	if (m->type[s] == 0) {
		return -ENOENT;
	}
	if ((rc = m_parent_err(m, d)) != 0) {
		return rc;
	}
	if (m->type[d] != 0) {
		return -EEXIST;
	}
	if (m->type[s] == 2) {
		return -EPERM;
	}
	m->type[d] = 1;
	m->ino[d] = m->ino[s];
	m->nlink[m->ino[s]]++;
	return 0;
}

/* Move what is at s (and, for a top-level directory, its children). */
static void m_move(conf_model *m, int s, int d)
{
	m->type[d] = m->type[s];
	m->ino[d] = m->ino[s];
	m->type[s] = 0;
	if (s < 4 && d < 4) {
		for (int k = 0; k < 2; k++) {
			m->type[4 + 2 * d + k] = m->type[4 + 2 * s + k];
			m->ino[4 + 2 * d + k] = m->ino[4 + 2 * s + k];
			m->type[4 + 2 * s + k] = 0;
		}
	}
}

static int m_rename(conf_model *m, int s, int d, unsigned flags)
{
	int rc = m_parent_err(m, s);
	bool exch = flags & VFS_RENAME_EXCHANGE;

	if (rc != 0) {
		return rc;
	}
	if ((rc = m_parent_err(m, d)) != 0) {
		return rc;
	}
	if (m->type[s] == 0) {
		return -ENOENT;
	}
	if ((flags & VFS_RENAME_NOREPLACE) && m->type[d] != 0) {
		return -EEXIST;
	}
	if (exch && m->type[d] == 0) {
		return -ENOENT;
	}
	/* The source may not be an ancestor of the target ... */
	if (m_parent(d) == s) {
		return -EINVAL;
	}
	/* ... nor the target an ancestor of the source. */
	if (m_parent(s) == d) {
		return exch ? -EINVAL : -ENOTEMPTY;
	}
	if (s == d ||
	    (m->type[s] == 1 && m->type[d] == 1 && m->ino[s] == m->ino[d])) {
		return 0;
	}
	if (exch) {
		int ty[2] = {m->type[s], m->type[d]};
		int in[2] = {m->ino[s], m->ino[d]};
		int ct[2][2] = {{0, 0}, {0, 0}}, ci[2][2] = {{0, 0}, {0, 0}};
		int at[2] = {s, d};
		for (int e = 0; e < 2; e++) {
			for (int k = 0; at[e] < 4 && k < 2; k++) {
				ct[e][k] = m->type[4 + 2 * at[e] + k];
				ci[e][k] = m->ino[4 + 2 * at[e] + k];
				m->type[4 + 2 * at[e] + k] = 0;
			}
		}
		for (int e = 0; e < 2; e++) {
			int to = at[1 - e];
			m->type[to] = ty[e];
			m->ino[to] = in[e];
			for (int k = 0; to < 4 && k < 2; k++) {
				m->type[4 + 2 * to + k] = ct[e][k];
				m->ino[4 + 2 * to + k] = ci[e][k];
			}
		}
		return 0;
	}
	if (m->type[d] != 0) {
		if (m->type[s] == 2 && m->type[d] == 1) {
			return -ENOTDIR;
		}
		if (m->type[s] == 1 && m->type[d] == 2) {
			return -EISDIR;
		}
		if (m->type[d] == 2 && m_nonempty(m, d)) {
			return -ENOTEMPTY;
		}
		if (m->type[d] == 1) {
			m->nlink[m->ino[d]]--;
		}
		m->type[d] = 0;
	}
	m_move(m, s, d);
	return 0;
}

/* A move would put a non-empty directory at depth two, which the model
 * cannot see into: such calls are left out of the sequence. */
static bool m_unrepresentable(const conf_model *m, int s, int d, bool exch)
{
	if (d >= 4 && m->type[s] == 2 && m_nonempty(m, s)) {
		return true;
	}
	return exch && s >= 4 && m->type[d] == 2 && m_nonempty(m, d);
}

static uint64_t m_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* ---- the real calls ----------------------------------------------------- */

#ifdef CONF_KERNEL
typedef void vfs;
static int r_create(vfs *v, const char *p, char c)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	(void)v;
	if (fd < 0) {
		return -errno;
	}
	if (write(fd, &c, 1) != 1) {
		abort();
	}
	close(fd);
	return 0;
}
#define R_MKDIR(v, p)   (mkdir(p, 0755) ? -errno : 0)
#define R_UNLINK(v, p)  (unlink(p) ? -errno : 0)
#define R_RMDIR(v, p)   (rmdir(p) ? -errno : 0)
#define R_LINK(v, s, d) (link(s, d) ? -errno : 0)
#define R_RENAME(v, s, d, f)                                                   \
	(renameat2(AT_FDCWD, s, AT_FDCWD, d, f) ? -errno : 0)
#else
static int r_create(vfs *v, const char *p, char c)
{
	int fd = vfs_open(v, p, O_WRONLY | O_CREAT | O_EXCL, 0644);

	if (fd < 0) {
		return fd;
	}
	assert_int_equal(vfs_write(v, fd, &c, 1), 1);
	assert_int_equal(vfs_close(v, fd), 0);
	return 0;
}
#define R_MKDIR(v, p)        vfs_mkdir(v, p, 0755)
#define R_UNLINK(v, p)       vfs_unlink(v, p)
#define R_RMDIR(v, p)        vfs_rmdir(v, p)
#define R_LINK(v, s, d)      vfs_link(v, s, d)
#define R_RENAME(v, s, d, f) vfs_rename(v, s, d, f)
#endif

/* Run n random calls; returns the number of disagreements (each printed). */
static int m_run(vfs *v, conf_model *m, uint64_t seed, int n)
{
	static const char *const names[] = {
	        "create", "mkdir", "unlink",           "rmdir",
	        "rename", "link",  "rename-noreplace", "rename-exchange"};
	int bad = 0;

	memset(m, 0, sizeof *m);
	for (int step = 0; step < n; step++) {
		int op = (int)(m_rand(&seed) % 8);
		int s = (int)(m_rand(&seed) % NPATH);
		int d = (int)(m_rand(&seed) % NPATH);
		char c = (char)('A' + step % 26);
		int want, got;

		if (op >= 4 && op != 5 && m_unrepresentable(m, s, d, op == 7)) {
			continue;
		}
		if (m->ninos >= NINO - 1) {
			break;
		}
		switch (op) {
		case 0:
			want = m_create(m, s, c, false);
			got = r_create(v, conf_paths[s], c);
			break;
		case 1:
			want = m_create(m, s, c, true);
			got = R_MKDIR(v, conf_paths[s]);
			break;
		case 2:
			want = m_unlink(m, s);
			got = R_UNLINK(v, conf_paths[s]);
			break;
		case 3:
			want = m_rmdir(m, s);
			got = R_RMDIR(v, conf_paths[s]);
			break;
		case 4:
			want = m_rename(m, s, d, 0);
			got = R_RENAME(v, conf_paths[s], conf_paths[d], 0);
			break;
		case 5:
			want = m_link(m, s, d);
			got = R_LINK(v, conf_paths[s], conf_paths[d]);
			break;
		case 6:
			want = m_rename(m, s, d, VFS_RENAME_NOREPLACE);
			got = R_RENAME(v, conf_paths[s], conf_paths[d],
			               VFS_RENAME_NOREPLACE);
			break;
		default:
			want = m_rename(m, s, d, VFS_RENAME_EXCHANGE);
			got = R_RENAME(v, conf_paths[s], conf_paths[d],
			               VFS_RENAME_EXCHANGE);
			break;
		}
		if (want != got) {
			printf("step %d: %s %s %s: got %d, model says %d\n",
			       step, names[op], conf_paths[s], conf_paths[d],
			       got, want);
			if (++bad > 5) {
				break;
			}
		}
	}
	return bad;
}

#ifdef CONF_KERNEL
int main(int argc, char **argv)
{
	conf_model m;
	int bad;

	if (argc < 2 || chdir(argv[1]) != 0) {
		return 2;
	}
	bad = m_run(NULL, &m,
	            argc > 2 ? strtoull(argv[2], NULL, 0)
	                     : 0x2545f4914f6cdd1dull,
	            3000);
	printf("%d disagreements\n", bad);
	return bad != 0;
}
#else
static void conf_model_check(void **state, uint64_t seed)
{
	vfs *v = conf_vfs(state);
	conf_model m;
	vfs_attr a;
	char *ls;

	if (m_run(v, &m, seed, 3000) != 0) {
		fail_msg("calls disagreed with the model (see above)");
	}
	/* The final tree, link counts, inode sharing and contents. */
	uint64_t vino[NINO] = {0};
	for (int i = 0; i < NPATH; i++) {
		int rc = vfs_lstat(v, conf_paths[i], &a);
		if (m.type[i] == 0) {
			assert_true(rc == -ENOENT || rc == -ENOTDIR);
			continue;
		}
		assert_int_equal(rc, 0);
		if (m.type[i] == 2) {
			assert_int_equal(a.mode & S_IFMT, S_IFDIR);
			int subdirs = 0;
			for (int k = 0; i < 4 && k < 2; k++) {
				subdirs += m.type[4 + 2 * i + k] == 2;
			}
			assert_int_equal(a.nlink, 2 + subdirs);
			continue;
		}
		assert_int_equal(a.mode & S_IFMT, S_IFREG);
		assert_int_equal(a.nlink, m.nlink[m.ino[i]]);
		if (vino[m.ino[i]] == 0) {
			vino[m.ino[i]] = a.ino;
		}
		assert_int_equal(a.ino, vino[m.ino[i]]);
		conf_expect(v, conf_paths[i], &m.content[m.ino[i]], 1);
	}
	ls = conf_ls(v, "/");
	char want[64] = "";
	for (int i = 0; i < 4; i++) {
		if (m.type[i] != 0) {
			strcat(want, conf_paths[i]);
			strcat(want, "\n");
		}
	}
	assert_string_equal(ls, want);
	free(ls);
}

static void test_model_namespace_calls_match_kernel_rules(void **state)
{
	conf_model_check(state, 0x2545f4914f6cdd1dull);
}

static void test_model_namespace_second_seed(void **state)
{
	conf_model_check(state, 12345);
}

int conf_run_model(void)
{
	struct CMUnitTest tests[] = {
	        CONF_TEST(test_model_namespace_calls_match_kernel_rules),
	        CONF_TEST(test_model_namespace_second_seed),
	};
	return CONF_RUN_GROUP("model", tests);
}
#endif
