/* tests/exclude_rsync [-s SEED] [-n PATTERNS] [-r RSYNC]: poni's exclude
 * matcher (src/exclude.c) against real rsync, for tests/sys_exclude.sh.
 *
 * Random trees of files and directories, named from a small alphabet so
 * that patterns hit often, and random patterns (*, **, ***, ?, sets with
 * ranges, negation and classes, escapes, leading and trailing /,
 * literals, rule look-alikes). rsync is slow to start, so a batch of
 * patterns goes to one "rsync -n -r --debug=FILTER --exclude=P1
 * --exclude=P2 ... SRC dst" per source form (ROOT and ROOT/): it lists
 * what it would transfer, and for each path it leaves out the pattern
 * that matched first, as it tries them in order. poni must leave out
 * the same paths (an excluded directory hides what is in it) for the
 * same first pattern. As an excluded directory hides its contents from
 * the other patterns, the batch also goes to a run with --include=P1
 * ... (the same rules, the same matching in rsync, but nothing hidden),
 * where rsync names the first pattern that matches each path itself.
 * In each run the patterns that match less come first.
 *
 * Prints the seed, the differences (pattern, path, both answers: the
 * first 10) and a count; exits 1 when poni and rsync differ, 2 when the
 * test cannot run. The same seed gives the same trees and patterns. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/exclude.h"

#define MAX_NODES 60
#define BATCH 40
#define BATCHES_PER_TREE 4
#define SHOWN 10

extern char **environ;

struct node {
	char path[256];	/* below the root, "a/b" */
	bool dir;
	int parent;	/* index, -1 for a child of the root */
	int depth;	/* 1 for a child of the root */
};

static struct node nodes[MAX_NODES];
static int nnodes;
static char root_name[8];
static char work[PATH_MAX];
static const char *rsync = "rsync";
static unsigned long differences, compared, runs;

/* xorshift32: the same trees and patterns for the same seed */
static unsigned rnd_state;
static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

/* Names are mostly a and b, so that patterns hit often, with the
 * bytes that mean something in a pattern now and then. */
static char name_byte(void)
{
	static const char rare[] = "1.-*?[]\\!^:,+ ";

	return rnd(10) < 7 ? "ab"[rnd(2)] : rare[rnd(sizeof rare - 1)];
}

static void random_name(char *s)
{
	unsigned i, n;

	do {
		n = 1 + rnd(3);
		for (i = 0; i < n; i++)
			s[i] = name_byte();
		s[n] = '\0';
	} while (strcmp(s, ".") == 0 || strcmp(s, "..") == 0);
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "exclude_rsync: %s %s: %s\n", what, path, strerror(errno));
	exit(2);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Remove path and what is in it. */
static void remove_tree(const char *path)
{
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		die("cannot remove", path);
}

/* A new random tree in tree/ROOT (in work): a few entries in the root, then
 * in each directory in turn, at most 3 deep. */
static void make_tree(void)
{
	char path[PATH_MAX], name[8];
	int i, j, n, fd;
	struct node *e;

	remove_tree("tree");
	random_name(root_name);
	snprintf(path, sizeof path, "tree/%s", root_name);
	if (mkdir("tree", 0700) < 0 || mkdir(path, 0700) < 0)
		die("cannot make", path);
	nnodes = 0;
	for (i = -1; i < nnodes; i++) {
		if (i >= 0 && (!nodes[i].dir || nodes[i].depth == 3))
			continue;
		for (n = 2 + (int)rnd(4); n > 0 && nnodes < MAX_NODES; n--) {
			e = &nodes[nnodes];
			random_name(name);
			snprintf(e->path, sizeof e->path, "%s%s%s", i < 0 ? "" : nodes[i].path,
			    i < 0 ? "" : "/", name);
			for (j = 0; j < nnodes && strcmp(nodes[j].path, e->path); j++)
				;
			if (j < nnodes)
				continue;	/* that name is taken */
			e->dir = rnd(2);
			e->parent = i;
			e->depth = i < 0 ? 1 : nodes[i].depth + 1;
			snprintf(path, sizeof path, "tree/%s/%s", root_name, e->path);
			if (e->dir ? mkdir(path, 0700) < 0 :
			    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 || close(fd) < 0)
				die("cannot make", path);
			nnodes++;
		}
	}
}

/* A random pattern: a few tokens, sometimes a leading or trailing "/",
 * sometimes what looks like an rsync rule prefix. */
static void random_pattern(char *p, size_t cap)
{
	static const char *const fixed[] = { "*", "*", "**", "***", "?", "/", "/",
		"[[:digit:]]", "[[:alpha:]]", "[![:punct:]]", "[[:foo:]]", "[]a]",
		"[!]]", "[a-]", "[-b]", "[^a]", "\\*", "\\?", "\\[", "\\a", "\\" };
	static const char *const lead[] = { "- ", "+ ", "!", "-, ", "+/ ", "-", "+" };
	static const char *const classes[] = { "[:lower:]", "[:upper:]", "[:digit:]",
		"[:punct:]", "[:space:]", "[:nope:]" };
	char t[64];
	size_t n = 0, len;
	unsigned i, k, count = 1 + rnd(6);

	p[0] = '\0';
	if (rnd(20) == 0)
		n = strlen(strcpy(p, lead[rnd(sizeof lead / sizeof *lead)]));
	if (rnd(5) == 0)
		p[n++] = '/';
	for (i = 0; i < count; i++) {
		switch (rnd(4)) {
		case 0:
			strcpy(t, fixed[rnd(sizeof fixed / sizeof *fixed)]);
			break;
		case 1:	/* a set of one to three members */
			len = 0;
			t[len++] = '[';
			if (rnd(3) == 0)
				t[len++] = "!^"[rnd(2)];
			for (k = 1 + rnd(3); k > 0; k--) {
				switch (rnd(5)) {
				case 0:
					t[len++] = name_byte();
					t[len++] = '-';
					t[len++] = name_byte();
					break;
				case 1:
					t[len++] = '\\';
					t[len++] = name_byte();
					break;
				case 2:	/* a class, or a name that is none */
					len += strlen(strcpy(t + len, classes[rnd(6)]));
					break;
				default:
					t[len++] = name_byte();
				}
			}
			if (rnd(10))	/* else not closed */
				t[len++] = ']';
			t[len] = '\0';
			break;
		default:
			t[0] = name_byte();
			t[1] = '\0';
		}
		len = strlen(t);
		if (n + len + 2 > cap)
			break;
		memcpy(p + n, t, len + 1);
		n += len;
	}
	if (rnd(5) == 0 && n + 2 <= cap)
		p[n++] = '/';
	p[n] = '\0';
}

/* One rsync run over the tree: a source form, a mode, the patterns in
 * the order rsync gets them, and what it said. Indexes of nodes are
 * shifted by one: 0 is the root. */
struct run {
	bool with_root;	/* source ROOT (paths "ROOT/a"), else ROOT/ ("a") */
	bool include;	/* --include=P: rsync hides nothing */
	char *pats[BATCH];
	int npats;
	pid_t pid;
	char file[8];
	bool sent[MAX_NODES + 1];
	int first[MAX_NODES + 1];	/* the pattern that hid or showed it */
};

/* The path of node i as poni sees it in run r; node -1 is ROOT. */
static const char *node_path(const struct run *r, int i, char *buf, size_t len)
{
	if (i < 0)
		snprintf(buf, len, "%s", root_name);
	else
		snprintf(buf, len, "%s%s%s", r->with_root ? root_name : "",
		    r->with_root ? "/" : "", nodes[i].path);
	return buf;
}

/* Does poni exclude node i with pattern alone (for a parent too)? Does
 * the pattern match node i itself (inherit false)? */
static bool poni_says(const struct run *r, char *pattern, int i, bool inherit)
{
	char path[300];
	bool dir = i < 0 || nodes[i].dir;

	node_path(r, i, path, sizeof path);
	return inherit ? exclude_match(&pattern, 1, path, dir) :
	    exclude_pattern(pattern, path, dir);
}

/* poni's first pattern of run r for node i, -1 for none. */
static int poni_first(const struct run *r, int i)
{
	int k;

	for (k = 0; k < r->npats; k++)
		if (poni_says(r, r->pats[k], i, !r->include))
			return k;
	return -1;
}

/* Fewest hits first: a pattern that matches much hides the others'
 * answers on what it matches. */
static void order(struct run *r, char **pats, int npats)
{
	int key[BATCH][2], tmp[2], i, j;

	for (i = 0; i < npats; i++) {
		key[i][0] = 0;
		key[i][1] = i;
		for (j = r->with_root ? -1 : 0; j < nnodes; j++)
			key[i][0] += poni_says(r, pats[i], j, !r->include);
	}
	for (i = 1; i < npats; i++)	/* insertion sort: stable */
		for (j = i; j > 0 && key[j - 1][0] > key[j][0]; j--) {
			memcpy(tmp, key[j], sizeof tmp);
			memcpy(key[j], key[j - 1], sizeof tmp);
			memcpy(key[j - 1], tmp, sizeof tmp);
		}
	for (i = 0; i < npats; i++)
		r->pats[i] = pats[key[i][1]];
	r->npats = npats;
}

/* Start "rsync -n -r --debug=FILTER --out-format='T %n' --exclude=P1 ...
 * SRC dst" in the background, its output to r->file. */
static void start(struct run *r)
{
	char *argv[BATCH + 8], src[32];
	posix_spawn_file_actions_t fa;
	const char *opt = r->include ? "--include=" : "--exclude=";
	int n = 0, i;

	snprintf(src, sizeof src, "tree/%s%s", root_name, r->with_root ? "" : "/");
	argv[n++] = (char *)rsync;
	argv[n++] = "-n";
	argv[n++] = "-r";
	argv[n++] = "--debug=FILTER";
	argv[n++] = "--out-format=T %n";
	for (i = 0; i < r->npats; i++) {
		if (!(argv[n] = malloc(strlen(opt) + strlen(r->pats[i]) + 1)))
			die("out of memory", "");
		strcat(strcpy(argv[n++], opt), r->pats[i]);
	}
	argv[n++] = src;
	argv[n++] = "dst";	/* never made: -n */
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, r->file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if ((errno = posix_spawnp(&r->pid, rsync, &fa, NULL, argv, environ)))
		die("cannot run", rsync);
	posix_spawn_file_actions_destroy(&fa);
	for (i = 5; i < 5 + r->npats; i++)
		free(argv[i]);
	runs++;
}

static void report(const char *fmt, const char *a, const char *b)
{
	if (++differences <= SHOWN) {
		printf(fmt, a, b);
		putchar('\n');
	}
}

/* Pattern k of run r and node i: rsync's answer (by_rsync) differs
 * from poni's. */
static void differ(const struct run *r, int k, int i, bool by_rsync)
{
	char path[300];

	if (++differences > SHOWN)
		return;
	printf("  pattern '%s', %s '%s' (source %s%s, --%s): rsync %s it, poni %s\n",
	    k < 0 ? "(rsync named none)" : r->pats[k],
	    i < 0 || nodes[i].dir ? "directory" : "file", node_path(r, i, path, sizeof path),
	    root_name, r->with_root ? "" : "/", r->include ? "include" : "exclude",
	    by_rsync ? "matches" : "does not match", by_rsync ? "does not" : "does");
}

/* Which node is this name of rsync's output? -1 the root, -2 none. */
static int find_node(const struct run *r, const char *name)
{
	char path[300];
	int i;

	for (i = r->with_root ? -1 : 0; i < nnodes; i++)
		if (strcmp(node_path(r, i, path, sizeof path), name) == 0)
			return i;
	return -2;
}

/* One line of rsync's output: "T NAME" for a path it would transfer,
 * "[sender] hiding|showing file|directory NAME because of pattern P"
 * for one that P matched first. false for a line that is neither. */
static bool parse_line(struct run *r, char *line)
{
	static const char why[] = " because of pattern ";
	const char *end;
	char *name, *pat;
	int i, k;

	if (strncmp(line, "T ", 2) == 0) {
		name = line + 2;
		if (strcmp(name, "./") == 0)
			return true;
		if (name[strlen(name) - 1] == '/')
			name[strlen(name) - 1] = '\0';
		if ((i = find_node(r, name)) == -2)
			return false;
		r->sent[i + 1] = true;
		return true;
	}
	/* rsync's warning that a pattern ends in a space */
	if (strncmp(line, "[client] add_rule(", 18) == 0 && strstr(line, "CAUTION"))
		return true;
	end = r->include ? "[sender] showing " : "[sender] hiding ";
	if (strncmp(line, end, strlen(end)) != 0 || !(pat = strstr(line, why)) ||
	    !(name = strchr(line + strlen(end), ' ')))
		return false;
	for (k = 0; k < r->npats && strcmp(r->pats[k], pat + strlen(why)) != 0; k++)
		;
	*pat = '\0';
	i = k < r->npats ? find_node(r, name + 1) : -2;
	*pat = ' ';
	if (i == -2)
		return false;
	r->first[i + 1] = k;
	return true;
}

/* Wait for run r, then compare what rsync said with poni's answers. */
static void compare(struct run *r)
{
	char line[1024];
	FILE *f;
	int i, j, k, p, st;

	while (waitpid(r->pid, &st, 0) < 0)
		if (errno != EINTR)
			die("cannot wait for", rsync);
	if (!(f = fopen(r->file, "r")))
		die("cannot read", r->file);
	memset(r->sent, 0, sizeof r->sent);
	for (i = 0; i <= MAX_NODES; i++)
		r->first[i] = -1;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!parse_line(r, line))
			report("  rsync said: %s%s", line, "");
	}
	fclose(f);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		report("  rsync failed (status %s)%s", WIFEXITED(st) ? "non-zero" : "signal", "");
		return;
	}
	for (i = r->with_root ? -1 : 0; i < nnodes; i++) {
		p = poni_first(r, i);
		k = r->first[i + 1];
		if (r->include && !r->sent[i + 1]) {
			report("  rsync hid a path with --include only%s%s", "", "");
		} else if (!r->include && p >= 0 && r->sent[i + 1]) {
			differ(r, p, i, false);
		} else if (!r->include && p < 0 && !r->sent[i + 1]) {
			/* rsync excludes it: by a pattern for it or for a parent */
			for (j = i; j >= 0 && r->first[j + 1] < 0; j = nodes[j].parent)
				;
			if (r->first[j + 1] < 0)
				differ(r, -1, i, true);
			else
				differ(r, r->first[j + 1], j, true);
		} else if (r->sent[i + 1] && (r->include || p < 0)) {
			/* rsync tried the patterns before k, and k matched */
			compared += (unsigned long)(k >= 0 ? k + 1 : r->npats);
			if (k == p)
				continue;
			if (k >= 0 && !poni_says(r, r->pats[k], i, !r->include))
				differ(r, k, i, true);
			else
				differ(r, p, i, false);
		}
	}
}

int main(int argc, char **argv)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid() << 16;
	long count = 2000, done = 0;
	char pool[BATCH][128], *pats[BATCH];
	const char *tmp = getenv("TMPDIR");
	struct run runs4[4];
	int opt, npats, batch, i;

	while ((opt = getopt(argc, argv, "s:n:r:")) != -1) {
		switch (opt) {
		case 's': seed = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'r': rsync = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n PATTERNS] [-r RSYNC]\n", argv[0]);
			return 2;
		}
	}
	printf("seed %u\n", seed);
	fflush(stdout);
	rnd_state = seed ? seed : 1;
	snprintf(work, sizeof work, "%s/exclude_rsync.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(work) || chdir(work) < 0)
		die("cannot make", work);
	for (i = 0; i < 4; i++) {
		runs4[i].with_root = i & 1;
		runs4[i].include = i & 2;
		snprintf(runs4[i].file, sizeof runs4[i].file, "out%d", i);
	}
	for (batch = 0; done < count; batch++) {
		if (batch % BATCHES_PER_TREE == 0)
			make_tree();
		/* distinct patterns that rsync's --exclude takes as patterns */
		for (npats = 0; npats < BATCH && done < count;) {
			random_pattern(pool[npats], sizeof pool[npats]);
			if (!*pool[npats] || exclude_prefix(pool[npats]))
				continue;
			for (i = 0; i < npats && strcmp(pool[i], pool[npats]); i++)
				;
			if (i < npats)
				continue;
			pats[npats] = pool[npats];
			npats++;
			done++;
		}
		for (i = 0; i < 4; i++) {
			order(&runs4[i], pats, npats);
			start(&runs4[i]);
		}
		for (i = 0; i < 4; i++)
			compare(&runs4[i]);
	}
	if (chdir("/") < 0)
		die("cannot leave", work);
	remove_tree(work);
	printf("%ld patterns, %lu rsync runs, %lu answers compared: %lu different%s\n",
	    done, runs, compared, differences,
	    differences > SHOWN ? " (the first shown)" : "");
	return differences ? 1 : 0;
}
